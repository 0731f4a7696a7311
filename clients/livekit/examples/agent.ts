// A LiveKit voice agent that speaks through emomix (the README's example).
// Run it like any LiveKit agent (`npx tsx examples/agent.ts dev`), with
// LIVEKIT_URL/LIVEKIT_API_KEY/LIVEKIT_API_SECRET set and an emomix server at $EMOMIX_URL.
import { Agent, AgentSession, type JobContext, ServerOptions, cli, defineAgent, inference, tool } from '@livekit/agents';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import * as emomix from '../src/index.js';

export default defineAgent({
  entry: async (ctx: JobContext) => {
    const tts = new emomix.TTS({ url: process.env['EMOMIX_URL'] ?? 'ws://127.0.0.1:8080/v1/stream', emotion: { happy: 0.6, neutral: 0.4 } });
    const agent = Agent.create({
      // Teaches the LLM the expression markers the plugin turns into emotion mixes.
      instructions: `You are a cheerful assistant.\n\n${tts.markup.llmInstructions()}`,
      tools: [
        tool({
          name: 'setMood',
          description: 'Change the tone of your voice for the rest of the conversation.',
          parameters: z.object({ emotion: z.enum(['neutral', 'happy', 'sad', 'angry', 'surprise']) }),
          // Reaches the speech in progress too, gliding over 400 ms.
          execute: async ({ emotion }) => {
            tts.updateOptions({ emotion, rampMs: 400 });
            return `now sounding ${emotion}`;
          },
        }),
      ],
    });
    const session = new AgentSession({
      stt: new inference.STT({ model: 'deepgram/nova-3', language: 'en' }),
      llm: new inference.LLM({ model: 'openai/gpt-4.1-mini' }),
      tts,
    });
    await session.start({ agent, room: ctx.room });
    session.say('Hello! How can I help you today?');
  },
});

cli.runApp(new ServerOptions({ agent: fileURLToPath(import.meta.url) }));
