import t from 'tap'
import { startFake, startReceiver, until } from './support/fake.ts'

const NODE = 'id name updatedAt totalPriceSet { shopMoney { amount } } customer { id }'
const LINE = 'id sku quantity discountedTotalSet { shopMoney { amount } }'
const RUN = `mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status objectCount rootObjectCount url createdAt } userErrors { field message code } } }`
const POLL =
  'query($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl completedAt } }'

t.test('bulk JSONL equals the paged result; children carry __parentId', async (t) => {
  const { fake, gql, shop } = await startFake(t, { orders: 200 })
  const hook = await startReceiver(t)
  await gql(
    'mutation($u: String!) { webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH, webhookSubscription: { uri: $u }) { userErrors { message } } }',
    { u: hook.uri },
  )
  const run = await gql(RUN, {
    q: `{ orders(query: "financial_status:paid") { edges { node { ${NODE} lineItems { edges { node { ${LINE} } } } } } } }`,
  })
  const op = run.data!.bulkOperationRunQuery.bulkOperation
  t.same(run.data!.bulkOperationRunQuery.userErrors, [])
  t.equal(op.status, 'CREATED')
  t.equal(op.objectCount, '0')
  let polled: any
  await until(() => false, 0).catch(() => undefined)
  for (let i = 0; i < 100; i++) {
    polled = (await gql(POLL, { id: op.id })).data!.bulkOperation
    if (polled.status === 'COMPLETED') break
    await new Promise((r) => setTimeout(r, 20))
  }
  t.equal(polled.status, 'COMPLETED')
  const res = await fetch(polled.url)
  t.equal(res.headers.get('content-type'), 'application/jsonl')
  const text = await res.text()
  t.equal(String(Buffer.byteLength(text)), polled.fileSize)
  const lines = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.equal(String(lines.length), polled.objectCount)
  const parents = lines.filter((l) => !('__parentId' in l))
  t.equal(String(parents.length), polled.rootObjectCount)
  // Paged equivalent.
  const paged: any[] = []
  let after: string | null = null
  for (;;) {
    const r: any = await gql(
      `query($a: String) { orders(first: 20, after: $a, query: "financial_status:paid", sortKey: ID) { edges { node { ${NODE} lineItems(first: 10) { edges { node { ${LINE} } } } } } pageInfo { hasNextPage endCursor } } }`,
      { a: after },
    )
    paged.push(...r.data.orders.edges.map((e: any) => e.node))
    if (!r.data.orders.pageInfo.hasNextPage) break
    after = r.data.orders.pageInfo.endCursor
  }
  const rebuilt = parents.map((p) => ({
    ...p,
    lineItems: {
      edges: lines
        .filter((l) => l.__parentId === p.id)
        .map(({ __parentId, ...node }) => ({ node })),
    },
  }))
  t.same(rebuilt, paged)
  t.ok(
    lines.findIndex((l) => '__parentId' in l) > 1,
    'children are not grouped right after their parent',
  )
  await until(() => hook.got.length > 0)
  const fin = JSON.parse(hook.got[0]!.body)
  t.same(
    { ...fin, completed_at: undefined, created_at: undefined },
    {
      admin_graphql_api_id: op.id,
      completed_at: undefined,
      created_at: undefined,
      error_code: null,
      status: 'completed',
      type: 'query',
    },
  )
  t.equal(hook.got[0]!.headers['x-shopify-topic'], 'bulk_operations/finish')
  // The URL expires after 7 days.
  fake.clock.advance(7 * 86_400_000 + 1)
  t.equal((await fetch(polled.url)).status, 400)
  t.equal((await fetch(polled.url.replace(/signature=\w/, 'signature=0'))).status, 403)
  void shop
})

t.test('at most five running; a sixth gets OPERATION_IN_PROGRESS; cancel', async (t) => {
  const { fake, gql } = await startFake(t, {}, { bulkMinDurationMs: 60_000 })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const r = await gql(RUN, { q: '{ products { edges { node { id } } } }' })
    t.same(r.data!.bulkOperationRunQuery.userErrors, [])
    ids.push(r.data!.bulkOperationRunQuery.bulkOperation.id)
  }
  const sixth = await gql(RUN, { q: '{ products { edges { node { id } } } }' })
  t.equal(sixth.data!.bulkOperationRunQuery.bulkOperation, null)
  t.equal(sixth.data!.bulkOperationRunQuery.userErrors[0].code, 'OPERATION_IN_PROGRESS')
  t.match(
    sixth.data!.bulkOperationRunQuery.userErrors[0].message,
    /^A bulk query operation for this app and shop is already in progress: gid:\/\/shopify\/BulkOperation\//,
  )
  const running = await gql(
    '{ bulkOperations(first: 10, query: "status:running") { nodes { id status } } }',
  )
  await until(() => true)
  t.ok(running.data!.bulkOperations.nodes.length <= 5)
  const cancel = await gql(
    'mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }',
    { id: ids[0] },
  )
  t.ok(['CANCELING', 'CANCELED'].includes(cancel.data!.bulkOperationCancel.bulkOperation.status))
  fake.clock.advance(60_000)
  await new Promise((r) => setTimeout(r, 50))
  const done = await gql('{ bulkOperations(first: 10) { nodes { id status objectCount } } }')
  t.same(done.data!.bulkOperations.nodes.map((n: any) => n.status).sort(), [
    'CANCELED',
    'COMPLETED',
    'COMPLETED',
    'COMPLETED',
    'COMPLETED',
  ])
  const invalid = await gql(RUN, { q: '{ node(id: "gid://shopify/Order/1") { id } }' })
  t.equal(invalid.data!.bulkOperationRunQuery.userErrors[0].code, 'INVALID')
})

t.test('a failing bulk operation exposes partialDataUrl', async (t) => {
  const { fake, gql, shop } = await startFake(t)
  fake.setFaults(shop.domain, [{ kind: 'http5xx', count: 1, routes: ['bulk'] }])
  const r = await gql(RUN, { q: '{ customers { edges { node { id } } } }' })
  const id = r.data!.bulkOperationRunQuery.bulkOperation.id
  let op: any
  for (let i = 0; i < 100; i++) {
    op = (await gql(POLL, { id })).data!.bulkOperation
    if (op.status === 'FAILED') break
    await new Promise((res) => setTimeout(res, 20))
  }
  t.equal(op.status, 'FAILED')
  t.equal(op.errorCode, 'INTERNAL_SERVER_ERROR')
  t.equal(op.url, null)
  const partial = (await (await fetch(op.partialDataUrl)).text()).trim().split('\n')
  t.equal(String(partial.length), op.objectCount)
})
