import { createProgress, Terminal } from './progress';

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { out: { isTTY, write: (text: string) => void writes.push(text) }, writes };
}

test('progress lines are rate-limited and closed with the mean rate', () => {
  const { out, writes } = recorder(false);
  let now = 0;
  const progress = createProgress(new Terminal(out), 'eventstore append', 100_000, 'events', {
    intervalMs: 1_000,
    now: () => now,
  });
  for (let i = 1; i <= 10; i++) {
    now = i * 400; // a batch every 400 ms: a line every third batch at most
    progress.advance(10_000);
  }
  progress.finish();
  progress.finish();
  expect(writes).toEqual([
    'eventstore append: 30,000/100,000 events (30%), 25,000 events/s\n',
    'eventstore append: 60,000/100,000 events (60%), 25,000 events/s\n',
    'eventstore append: 90,000/100,000 events (90%), 25,000 events/s\n',
    'eventstore append: 100,000/100,000 events (100%) in 4.0 s, 25,000 events/s\n',
  ]);
});

test('on a terminal the status line is rewritten and cleared before a log line', () => {
  const { out, writes } = recorder(true);
  const terminal = new Terminal(out);
  terminal.status('1/2');
  terminal.status('2/2');
  terminal.line('done');
  terminal.line('next');
  expect(writes).toEqual(['\r\x1b[K1/2', '\r\x1b[K2/2', '\r\x1b[K', 'done\n', 'next\n']);
});
