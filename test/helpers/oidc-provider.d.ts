// oidc-provider ships no types; the few parts the tests use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    // Koa middleware on the provider's own app (koa's Context, kept loose here).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    use(middleware: (ctx: any, next: () => Promise<void>) => Promise<void>): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    proxy: boolean;
  }
}
