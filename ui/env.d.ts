// The stylesheet is bundled by esbuild and inlined into ui.html by the build.
declare module '*.css';
