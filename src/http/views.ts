// Server-rendered pages with nunjucks: auto-escaping on, templates in views/.
import nunjucks from 'nunjucks';
import { fileURLToPath } from 'node:url';

const viewsDir = fileURLToPath(new URL('../../views', import.meta.url));

export type Render = (template: string, data?: Record<string, unknown>) => string;

export function createRenderer(): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir), {
    autoescape: true,
    throwOnUndefined: false,
  });
  return (template, data = {}) => env.render(template, data);
}
