// The doctor's report for a person: the table `npm run cli -- stores doctor --store ID` prints. Pure.
import type { HealthReport } from './types.js';

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

/** Wraps `text` at spaces to lines of at most `width` characters (a longer word stays whole). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** A plain-text table: check, status, and what was seen with the fix under it. `storeId` heads it when given. */
export function formatHealthTable(report: HealthReport & { storeId?: string }, width = 100): string {
  const nameWidth = Math.max(5, ...report.checks.map((c) => c.name.length));
  const statusWidth = 6;
  const textWidth = Math.max(30, width - nameWidth - statusWidth - 4);
  const out: string[] = [];
  const profile = report.signing.profile ?? 'not known';
  const since = report.signing.detectedAt ? `, detected ${report.signing.detectedAt}` : '';
  if (report.storeId) out.push(`store ${report.storeId}`);
  out.push(`checked ${report.checkedAt}`, `signing profile ${profile}${since}`, '');
  out.push(`${'check'.padEnd(nameWidth)}  ${'status'.padEnd(statusWidth)}  detail`);
  out.push(`${'-'.repeat(nameWidth)}  ${'-'.repeat(statusWidth)}  ${'-'.repeat(Math.min(textWidth, 40))}`);
  for (const c of report.checks) {
    const lines = wrap(c.detail, textWidth);
    if (c.fix) lines.push(...wrap(`Fix: ${c.fix}`, textWidth));
    lines.forEach((line, i) => {
      out.push(i === 0 ? `${c.name.padEnd(nameWidth)}  ${MARK[c.status].padEnd(statusWidth)}  ${line}` : `${' '.repeat(nameWidth + statusWidth + 4)}${line}`);
    });
  }
  return out.join('\n') + '\n';
}

/** The exit status the CLI should end with: 0 all ok, 1 a warning, 2 a failure. */
export function healthExitCode(report: HealthReport): number {
  if (report.checks.some((c) => c.status === 'fail')) return 2;
  return report.checks.some((c) => c.status === 'warn') ? 1 : 0;
}
