// Character tests the parser's hand-written scanners share (by char code: no string per test).

export function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}
