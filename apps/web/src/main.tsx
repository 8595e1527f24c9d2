import { render } from 'preact'
import { App } from './App.tsx'
import { preloadCharts } from './components.tsx'
import './styles.css'

// Every page but the sign-in pages draws charts or may soon.
if (!/\/login$/.test(window.location.pathname)) preloadCharts()
render(<App />, document.getElementById('root')!)
