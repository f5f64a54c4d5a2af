// The floor any Node proxy pays for the extra hop: Koa + axios forwarding to UPSTREAM with keep-alive, and nothing
// else (no auth, no database, no signing). Prints {"url": ...}.
import http from 'node:http';
import axios from 'axios';
import Koa from 'koa';

const upstream = process.env.UPSTREAM!.replace(/\/$/, '');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const client = axios.create({ httpAgent: agent, proxy: false, maxRedirects: 0, validateStatus: () => true, responseType: 'arraybuffer' });
const app = new Koa();
app.on('error', (err: Error & { code?: string }) => console.error(`passthrough: ${err.code ?? ''} ${err.message}`));
app.use(async (ctx) => {
  const response = await client.request<Buffer>({ method: ctx.method, url: upstream + ctx.url, headers: { accept: ctx.get('accept') || '*/*' } });
  ctx.status = response.status;
  const type = response.headers['content-type'];
  if (type) ctx.set('content-type', String(type));
  ctx.body = Buffer.from(response.data);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
