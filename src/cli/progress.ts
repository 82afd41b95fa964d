/** Where progress goes: stderr, so stdout stays the command's result (a table or `--json`). */
interface ProgressOut {
  isTTY?: boolean;
  write(text: string): unknown;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * Progress of a transfer of known size, as the CLI convention says: on a terminal one bar redrawn
 * in place, otherwise a plain line at every tenth, so logs of a CI job stay short.
 *
 * @example
 * const progress = transferProgress('uploading flights.csv');
 * await kiln.data.uploadFile('flights', 'flights.csv', { onProgress: progress.update });
 * progress.finish();
 */
export function transferProgress(label: string, out: ProgressOut = process.stderr) {
  let lastTenth = -1;
  let drawn = false;
  return {
    update(sent: number, total: number): void {
      const share = total === 0 ? 1 : Math.min(1, sent / total);
      if (out.isTTY === true) {
        const width = 30;
        const filled = Math.round(share * width);
        const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
        out.write(`\r${label} [${bar}] ${Math.floor(share * 100)}% ${megabytes(sent)} / ${megabytes(total)}`);
        drawn = true;
        return;
      }
      const tenth = Math.floor(share * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        out.write(`${label}: ${tenth * 10}% (${megabytes(sent)} of ${megabytes(total)})\n`);
      }
    },
    /** Ends the bar's line on a terminal; plain output needs nothing. */
    finish(): void {
      if (drawn) out.write('\n');
    },
  };
}
