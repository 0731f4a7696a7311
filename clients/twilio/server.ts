// A Twilio voice app in one process: it answers Twilio's call webhook with TwiML
// that streams the call back here, bridges each call's Media Stream to an emomix
// session, and lets the rest of an application speak into live calls.
//
//   POST /twiml                  Twilio's "A call comes in" webhook → <Connect><Stream>
//   WS   /media                  Twilio Media Streams (bidirectional)
//   POST /calls/CALLSID/say      {"text": "...", "emotion"?: {"happy": 1}} speaks into the call
//   POST /calls/CALLSID/interrupt   stops speaking at once
//
// Run: npx tsx clients/twilio/server.ts --emomix ws://127.0.0.1:8080/v1/stream --greeting "Hello!"
// and expose the port over https (Twilio needs wss://), e.g. behind a TLS proxy.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { TwilioBridge, type BridgeEvents, type BridgeOptions } from './bridge.js';

export interface TwilioServer {
  server: Server;
  /** Live calls by Twilio call SID. */
  calls: Map<string, TwilioBridge>;
}

const xml = (text: string): string => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65_536) throw new Error('body too large');
  }
  return JSON.parse(body) as Record<string, unknown>;
}

export function createTwilioServer(options: BridgeOptions, events: (call: TwilioBridge) => BridgeEvents = () => ({})): TwilioServer {
  const calls = new Map<string, TwilioBridge>();
  const wss = new WebSocketServer({ noServer: true });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/twiml') {
      const stream = `wss://${req.headers.host}/media`;
      const greeting = options.greeting ? `<Parameter name="greeting" value="${xml(options.greeting)}"/>` : '';
      return reply(res, 200, 'text/xml', `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${xml(stream)}">${greeting}</Stream></Connect></Response>`);
    }
    const match = /^\/calls\/([^/]+)\/(say|interrupt)$/.exec(url.pathname);
    const call = match ? calls.get(decodeURIComponent(match[1]!)) : undefined;
    if (req.method !== 'POST' || !match) return reply(res, 404, 'text/plain', 'POST /twiml, POST /calls/CALLSID/say or /interrupt\n');
    if (!call) return reply(res, 404, 'text/plain', 'no such call\n');
    if (match[2] === 'interrupt') {
      call.interrupt();
      return reply(res, 204, 'text/plain', '');
    }
    readJson(req).then(
      (body) => {
        if (typeof body.text !== 'string' || body.text === '') return reply(res, 400, 'text/plain', 'expected {"text": "..."}\n');
        if (body.emotion && typeof body.emotion === 'object') call.setEmotion(body.emotion as Record<string, number>);
        call.say(body.text);
        reply(res, 202, 'text/plain', '');
      },
      () => reply(res, 400, 'text/plain', 'expected a JSON body\n'),
    );
  });

  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/media') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (twilio) => {
      let theirs: BridgeEvents = {};
      const bridge: TwilioBridge = new TwilioBridge(twilio, options, {
        started: () => {
          calls.set(bridge.callSid!, bridge);
          theirs.started?.();
        },
        heard: (text) => theirs.heard?.(text),
        interrupted: (cut) => theirs.interrupted?.(cut),
        error: (code, message) => theirs.error?.(code, message),
        closed: () => {
          if (bridge.callSid) calls.delete(bridge.callSid);
          theirs.closed?.();
        },
      });
      theirs = events(bridge);
    });
  });
  return { server, calls };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8081' },
      emomix: { type: 'string', default: process.env.EMOMIX_URL ?? 'ws://127.0.0.1:8080/v1/stream' },
      token: { type: 'string', default: process.env.EMOMIX_TOKEN },
      voice: { type: 'string' },
      greeting: { type: 'string', default: 'Hello! You are speaking with emomix.' },
    },
  });
  const { server } = createTwilioServer(
    { emomixUrl: values.emomix!, ...(values.token ? { token: values.token } : {}), ...(values.voice ? { voice: values.voice } : {}), greeting: values.greeting! },
    (call) => ({
      heard: (text) => console.log(`${call.callSid}: heard "${text}"`),
      interrupted: ({ text }) => console.log(`${call.callSid}: barge-in; never spoken: "${text}"`),
      error: (code, message) => console.error(`${call.callSid}: ${code}: ${message}`),
      closed: () => console.log(`${call.callSid}: call over`),
    }),
  );
  server.listen(Number(values.port), () => console.log(`Twilio bridge on :${values.port} → ${values.emomix}`));
}
