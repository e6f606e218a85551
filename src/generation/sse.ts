/**
 * Server-sent events (the WHATWG HTML standard, "Interpreting an event stream"), reduced to what
 * OpenAI-compatible streams use: the `data` of each event. Events end at a blank line; lines end in
 * LF, CRLF or CR; `data:` lines of one event are joined with LF; comments (`:`) and other fields are
 * skipped; `onChunk` hears of every piece read. Hand-written rather than a dependency: it is this much code, and the maintained parser
 * (eventsource-parser) ships only as an ES module.
 */
export async function* serverSentData(body: ReadableStream<Uint8Array>, onChunk?: () => void): AsyncGenerator<string> {
	const decoder = new TextDecoder();
	let buffer = '';
	let data: string[] = [];
	let first = true;
	const reader = body.getReader();
	try {
		for (;;) {
			const { value, done } = await reader.read();
			// Comments (keep-alives) and partial lines count as signs of life too.
			onChunk?.();
			buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
			if (first && buffer.length > 0) {
				if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
				first = false;
			}
			// A CR at the very end may be the first half of a CRLF: wait for the next piece unless done.
			for (;;) {
				const match = /\r\n|\r|\n/.exec(buffer);
				if (!match || (match[0] === '\r' && match.index === buffer.length - 1 && !done)) break;
				const line = buffer.slice(0, match.index);
				buffer = buffer.slice(match.index + match[0].length);
				if (line === '') {
					if (data.length > 0) yield data.join('\n');
					data = [];
				} else if (line.startsWith('data:')) {
					data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
				}
			}
			if (done) break;
		}
		// The stream ended inside an event: per the standard it is dropped, not dispatched.
	} finally {
		reader.releaseLock();
	}
}
