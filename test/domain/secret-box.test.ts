import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/domain/secret-box.js';

const SECRET = 'x'.repeat(40);

describe('secret box (AES-256-GCM under a key derived from SECRET)', () => {
  const box = createSecretBox(SECRET);

  it('opens what it sealed, and never seals the same way twice', () => {
    const a = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    const b = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(a, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses a ciphertext moved to another user, altered, or sealed under another SECRET', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(() => box.open(sealed, 'user-2')).toThrow();
    const [v, iv, body, tag] = sealed.split('.');
    const flipped = `${body![0] === 'A' ? 'B' : 'A'}${body!.slice(1)}`;
    expect(() => box.open([v, iv, flipped, tag].join('.'), 'user-1')).toThrow();
    expect(() => createSecretBox('y'.repeat(40)).open(sealed, 'user-1')).toThrow();
    expect(() => box.open('garbage', 'user-1')).toThrow();
  });
});
