import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Two pages: the dashboard (index.html) and the GraphQL playground
// (graphiql.html), which bundles GraphiQL and React on its own so that the
// dashboard never loads them.
export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // GraphiQL's dependencies mark React server-component boundaries
      // ("use client"), which mean nothing in a browser bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return
        warn(warning)
      },
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        graphiql: fileURLToPath(new URL('./graphiql.html', import.meta.url)),
      },
    },
  },
  // `vite` and `vite preview` pass the API through to a running voc
  // (VOC_URL, default http://127.0.0.1:8080); voc must list this page's
  // origin in VOC_ALLOWED_ORIGINS for the subscriptions socket.
  server: {
    proxy: {
      '/graphql': { target: process.env.VOC_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
})
