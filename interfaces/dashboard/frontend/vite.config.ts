import { defineConfig } from "vite";

// Built by interfaces/dashboard/build.py (vite build --outDir ...); served by tradestate at
// /dashboard/assets. One entry, no code splitting: the page loads one script and one
// stylesheet.
export default defineConfig({
  base: "/dashboard/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../static/dist",
    emptyOutDir: true,
    target: "es2020",
    chunkSizeWarningLimit: 600,
  },
});
