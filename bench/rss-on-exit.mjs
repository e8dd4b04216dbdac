// Preloaded (`node --import`) into a bbwatch CLI that a benchmark runs: prints the process's peak
// RSS on stderr as it exits, so `bbwatch analyze` is measured as a user runs it.
import { writeSync } from 'node:fs';

process.on('exit', () => writeSync(2, `\nmaxRSS ${process.resourceUsage().maxRSS}\n`));
