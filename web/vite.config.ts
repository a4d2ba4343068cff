import { defineConfig } from "vite";

// A static page: relative asset paths (`base: "./"`), so dist/ works from any path or host.
// JSX is compiled by Vite's own transform with React's automatic runtime (tsconfig "jsx").
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  preview: { host: "127.0.0.1", strictPort: true },
  server: { host: "127.0.0.1" },
});
