// Vite build of the presenter/audience UI into dist/, which the FastAPI app serves at `/`.
// esbuild compiles the JSX (automatic runtime), so no React plugin is needed.
import { defineConfig } from "vitest/config";

const backend = "http://127.0.0.1:3000"; // `npm run dev` proxies the API to a running app;

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    reportCompressedSize: true,
  },
  server: { proxy: { "/api": backend, "/healthz": backend } },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
