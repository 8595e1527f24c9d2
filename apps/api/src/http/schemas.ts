// The wire shapes several route files share: the error envelope, the statuses every
// authenticated route may answer, and the analytics' response format parameter.
import { z } from 'zod'

/** Xeno's error envelope: a stable code, a message, and the fields at fault for a 400. */
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
})

/** The error statuses every authenticated route may answer. */
export const authErrors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody }

/** `?format=csv`: the analytics answer as text/csv. */
export const formatQuery = z
  .enum(['json', 'csv'])
  .optional()
  .describe('`csv` answers text/csv (as does `Accept: text/csv`); default json')

/** An analytics range: inclusive local dates in the shop's zone, and the answer's format. */
export const localRangeQuery = z.object({
  from: z
    .string()
    .optional()
    .describe('first local date, YYYY-MM-DD in the shop zone (default: 29 days before `to`)'),
  to: z
    .string()
    .optional()
    .describe('last local date, inclusive, YYYY-MM-DD (default: today in the shop zone)'),
  format: formatQuery,
})
