import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../src/config.js';
import { ERRORS } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

/** The rows of the table between <!-- NAME:start --> and <!-- NAME:end -->, as [first cell, second cell]. */
function tableRows(name: string): [string, string][] {
  const section = readme.split(`<!-- ${name}:start -->`)[1]?.split(`<!-- ${name}:end -->`)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      return [cells[1]!.replace(/`/g, ''), cells[2]!.replace(/`/g, '')];
    });
}

describe('documentation in step with the code', () => {
  it('the README error table lists every error code with its status', () => {
    const documented = Object.fromEntries(tableRows('errors'));
    expect(Object.keys(documented).sort()).toEqual(Object.keys(ERRORS).sort());
    for (const [code, { status }] of Object.entries(ERRORS)) expect(documented[code]).toBe(String(status));
  });

  it('the README configuration table and .env.example list every variable', () => {
    expect(tableRows('config').map(([name]) => name).sort()).toEqual([...ENV_VARS].sort());
    for (const name of ENV_VARS) expect(envExample).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});
