import { createServer } from 'vite';
import { expect, it } from 'vitest';

/** `npm run demo` serves this config: the root URL vite prints must lead to the demo. */
it('the dev server root redirects to the demo, which answers', async () => {
  const server = await createServer({
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  });
  await server.listen();
  try {
    const root = server.resolvedUrls!.local[0]!;
    const first = await fetch(root, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/demo/');
    const page = await fetch(root);
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${root.replace(/\/$/, '')}/demo/`);
    expect(await page.text()).toContain('<title>');
  } finally {
    await server.close();
  }
});
