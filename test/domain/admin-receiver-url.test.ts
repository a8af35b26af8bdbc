import { describe, expect, it } from 'vitest';
import { receiverUrlForDisplay } from '../../src/domain/admin.js';

describe('receiver URLs in the admin console', () => {
  it('keep the origin and path, and hide a query or credentials where receiver tokens live', () => {
    expect(receiverUrlForDisplay('https://hooks.example.com/in')).toBe('https://hooks.example.com/in');
    expect(receiverUrlForDisplay('https://hooks.example.com/in?token=s3cret')).toBe('https://hooks.example.com/in…');
    expect(receiverUrlForDisplay('https://bot:s3cret@hooks.example.com:8443/in')).toBe('https://hooks.example.com:8443/in…');
    expect(receiverUrlForDisplay('https://hooks.example.com/in#s3cret')).toBe('https://hooks.example.com/in');
    expect(receiverUrlForDisplay('not a url')).toBe('(invalid URL)');
  });
});
