// Live updates: the reporting service's server-sent events, read with fetch so that the bearer
// token goes in a header (EventSource cannot send one). Each event says the projections moved;
// the page then fetches what it shows again (at most every few seconds while the simulator runs).

import { token } from './api';

export type LiveState = 'connecting' | 'live' | 'offline';

export function followChanges(
  path: string,
  onChange: () => void,
  onState: (state: LiveState) => void,
): () => void {
  let stopped = false;
  let controller: AbortController | undefined;
  let position: string | undefined;

  const run = async () => {
    let backoff = 1_000;
    while (!stopped) {
      onState('connecting');
      controller = new AbortController();
      try {
        const response = await fetch(path, {
          headers: { authorization: `Bearer ${token() ?? ''}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        onState('live');
        backoff = 1_000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trim())
              .join('\n');
            if (!block.includes('event: projections') || !data) continue;
            const next = (JSON.parse(data) as { position: string }).position;
            // The first event says where things stand when the stream opens.
            if (position !== undefined && next !== position) onChange();
            position = next;
          }
        }
      } catch {
        // connection lost or refused: try again below
      }
      if (stopped) break;
      onState('offline');
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 30_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
