// Magento's REST content handling: response renderer chosen from Accept (Rest\Response\RendererFactory with the
// renderers of Magento/Webapi/etc/di.xml), JSON via PHP json_encode, XML wrapped in <response> with list items
// as <item>; request bodies read by the deserializer for the exact Content-Type (JSON and XML only).
import { webapiError, MagentoException } from './errors.js';
import { phpJsonEncode } from './php.js';

export type Renderer = 'json' | 'xml';

const RENDERERS: [type: string, renderer: Renderer][] = [
  ['*/*', 'json'],
  ['application/json', 'json'],
  ['text/xml', 'xml'],
  ['application/xml', 'xml'],
  ['application/xhtml+xml', 'xml'],
];

/** Rest\Request::getAcceptTypes: by quality, highest first; nothing usable means * / *. */
export function acceptTypes(header: string | undefined): string[] {
  const byQuality = new Map<string, string[]>();
  for (const definition of (header ?? '').split(/,\s*/)) {
    const [type = '', ...rest] = definition.split(';');
    const mime = type.trim();
    if (!/^([0-9a-z*+\-]+)(?:\/([0-9a-z*+\-.]+))?$/i.test(mime)) continue;
    let quality = '1.0';
    const q = rest[0]?.split('=');
    if (q && q.length === 2) quality = q[1]!;
    const list = byQuality.get(quality) ?? [];
    if (!list.includes(mime)) list.push(mime);
    byQuality.set(quality, list);
  }
  const ordered = [...byQuality.entries()].sort((a, b) => Number(b[0]) - Number(a[0])).flatMap(([, l]) => l);
  return ordered.length ? [...new Set(ordered)] : ['*/*'];
}

/** RendererFactory::_getRendererClass; 406 when nothing matches. */
export function chooseRenderer(acceptHeader: string | undefined): Renderer {
  const types = acceptTypes(acceptHeader);
  for (const accept of types) {
    for (const [type, renderer] of RENDERERS) {
      const family = type.split('/')[0] + '/*';
      if (accept === type || accept === family || (accept === '*/*' && type === '*/*')) return renderer;
    }
  }
  throw webapiError(
    `Server cannot match any of the given Accept HTTP header media type(s) from the request: "${types[0]}" with media types from the config of response renderer.`,
    406,
  );
}

export const MIME: Record<Renderer, string> = { json: 'application/json; charset=utf-8', xml: 'application/xml; charset=utf-8' };

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function toXml(name: string, value: unknown): string {
  const tag = /^[A-Za-z_][\w.-]*$/.test(name) ? name : 'item';
  if (value === null || value === undefined) return `<${tag}/>`;
  if (Array.isArray(value)) return `<${tag}>${value.map((v) => toXml('item', v)).join('')}</${tag}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<${tag}>${inner}</${tag}>`;
  }
  const text = typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
  return `<${tag}>${xmlEscape(text)}</${tag}>`;
}

export function render(renderer: Renderer, data: unknown): string {
  if (renderer === 'json') return phpJsonEncode(data);
  return `<?xml version="1.0"?>\n${toXml('response', data)}\n`;
}

/** The REST body of an exception (Rest\Response::_renderMessages after ErrorProcessor::maskException). */
export function errorBody(e: MagentoException): Record<string, unknown> {
  if (e.kind === 'webapi' || e.kind === 'internal') return { message: e.message };
  const body: Record<string, unknown> = { message: e.raw };
  if (e.errors.length) body.errors = e.errors.map((x) => ({ message: x.raw, parameters: x.params }));
  const hasParams = Array.isArray(e.params) ? e.params.length > 0 : Object.keys(e.params).length > 0;
  if (hasParams) body.parameters = e.params;
  return body;
}

// ---- request bodies -----------------------------------------------------------------------------------------

const DESERIALIZERS: Record<string, 'json' | 'xml'> = {
  'application/json': 'json',
  'application/xml': 'xml',
  'application/xhtml+xml': 'xml',
  'text/xml': 'xml',
};

/** Rest\Request::getContentType + DeserializerFactory::get + the deserializer, for POST and PUT. */
export function deserializeBody(contentTypeHeader: string | undefined, body: string): Record<string, unknown> {
  if (!contentTypeHeader) throw new MagentoException('input', 'Content-Type header is empty.');
  const m = /^([a-z\d/\-+.]+?)(?:; *charset=(.+?))?$/i.exec(contentTypeHeader);
  if (!m) throw new MagentoException('input', 'Content-Type header is invalid.');
  if (m[2] !== undefined && m[2].toLowerCase() !== 'utf-8') {
    throw new MagentoException('input', 'UTF-8 is the only supported charset.');
  }
  const type = m[1]!;
  const kind = DESERIALIZERS[type];
  if (!kind) throw webapiError(`Server cannot understand Content-Type HTTP header media type ${type}`);
  const decoded = kind === 'json' ? decodeJson(body) : decodeXml(body);
  // (array) cast of the decoded value
  if (decoded === null || decoded === undefined) return {};
  if (typeof decoded !== 'object') return { 0: decoded };
  return decoded as Record<string, unknown>;
}

function decodeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw webapiError('Decoding error.');
  }
}

/** Deserializer\Xml: the root element's content, as Xml\Parser::xmlToArray builds it. */
function decodeXml(body: string): unknown {
  try {
    const root = parseXml(body);
    return root.content;
  } catch {
    throw webapiError('Decoding error.');
  }
}

interface XmlNode {
  name: string;
  content: unknown;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}

/** A small well-formedness-checking XML reader: elements, text, CDATA; attributes, comments and PIs skipped. */
function parseXml(src: string): XmlNode {
  let i = 0;
  const skipMisc = (): void => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      if (src.startsWith('<?', i)) i = src.indexOf('?>', i) + 2;
      else if (src.startsWith('<!--', i)) i = src.indexOf('-->', i) + 3;
      else if (src.startsWith('<!DOCTYPE', i)) throw new Error('DTD not allowed');
      else return;
      if (i < 2) throw new Error('unterminated');
    }
  };
  const element = (): XmlNode => {
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(src.slice(i));
    if (!open) throw new Error('element expected');
    i += open[0].length;
    const name = open[1]!;
    if (open[3]) return { name, content: null };
    let content: unknown = null;
    let text = '';
    const children: Record<string, unknown> = {};
    let hasChildren = false;
    for (;;) {
      if (i >= src.length) throw new Error('unterminated element');
      if (src.startsWith('</', i)) {
        const close = new RegExp(`^</${name.replace(/[.]/g, '\\.')}\\s*>`).exec(src.slice(i));
        if (!close) throw new Error('mismatched close tag');
        i += close[0].length;
        break;
      }
      if (src.startsWith('<![CDATA[', i)) {
        const end = src.indexOf(']]>', i);
        if (end === -1) throw new Error('unterminated CDATA');
        text += src.slice(i + 9, end);
        i = end + 3;
      } else if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i);
        if (end === -1) throw new Error('unterminated comment');
        i = end + 3;
      } else if (src[i] === '<') {
        const child = element();
        hasChildren = true;
        if (child.name in children) {
          const prev = children[child.name];
          children[child.name] = Array.isArray(prev) ? [...prev, child.content] : [prev, child.content];
        } else children[child.name] = child.content;
      } else {
        const next = src.indexOf('<', i);
        if (next === -1) throw new Error('unterminated element');
        text += decodeEntities(src.slice(i, next));
        i = next;
      }
    }
    if (hasChildren) content = children;
    else if (text.trim() !== '') content = text;
    return { name, content };
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i < src.length) throw new Error('trailing content');
  return root;
}
