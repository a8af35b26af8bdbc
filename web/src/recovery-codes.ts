/** The recovery codes as a text file to keep: a header line saying what they are, then one code a line. */
export function recoveryCodesText(header: string, codes: readonly string[]): string {
  return `${header}\n\n${codes.join('\n')}\n`;
}

/** Offers `text` as a download, named `fileName`, without a round trip to the server. */
export function downloadText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The click has started the download; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
