/** Stylesheets are bundled by esbuild (scripts/build-ui.ts); importing one only includes it. */
declare module '*.css';
