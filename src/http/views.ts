// Server-rendered pages with nunjucks: auto-escaping on, templates in views/.
import nunjucks from 'nunjucks';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';

const viewsDir = join(projectRoot, 'views');

export type Render = (template: string, data?: Record<string, unknown>) => string;

/** `globals` are visible to every template (e.g. `identity`: which sign-in methods the forms offer). */
export function createRenderer(globals: Record<string, unknown> = {}): Render {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir), {
    autoescape: true,
    throwOnUndefined: false,
  });
  for (const [name, value] of Object.entries(globals)) env.addGlobal(name, value);
  return (template, data = {}) => env.render(template, data);
}
