// Vite bundles CSS imported from modules into the page's stylesheet.
declare module '*.css' {}
