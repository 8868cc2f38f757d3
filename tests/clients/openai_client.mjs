// The official OpenAI SDK, unmodified, calling https://api.openai.com/v1 (its default base URL).
// Prints one JSON line; see common.mjs.
import OpenAI from 'openai';

import { clearBaseUrlOverrides, consumeStream, describeCause, parseClientArgs, runClient } from './common.mjs';

const args = parseClientArgs({ model: 'gpt-4o-mini', apiKey: 'sk-shadowai-test-openai-key' },
                             ['chat', 'responses', 'completions', 'embeddings']);
clearBaseUrlOverrides(['OPENAI_BASE_URL']);
const client = new OpenAI({ apiKey: args.apiKey, maxRetries: 0, timeout: args.timeoutMs });

async function chat() {
  const request = { model: args.model, messages: [{ role: 'user', content: args.prompt }], max_tokens: args.maxTokens };
  if (!args.stream) {
    const response = await client.chat.completions.create(request);
    return { text: response.choices[0]?.message?.content ?? '', events: 0, model: response.model, usage: response.usage };
  }
  const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = '', model = null, usage = null;
  const events = await consumeStream(stream, (chunk) => {
    text += chunk.choices[0]?.delta?.content ?? '';
    model = chunk.model ?? model;
    usage = chunk.usage ?? usage;
  });
  return { text, events, model, usage };
}

async function responses() {
  const request = { model: args.model, input: args.prompt, max_output_tokens: args.maxTokens };
  if (!args.stream) {
    const response = await client.responses.create(request);
    return { text: response.output_text, events: 0, model: response.model, usage: response.usage };
  }
  const stream = await client.responses.create({ ...request, stream: true });
  let text = '', model = null, usage = null;
  const events = await consumeStream(stream, (event) => {
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') ({ model, usage } = event.response);
  });
  return { text, events, model, usage };
}

async function completions() {
  const request = { model: args.model, prompt: args.prompt, max_tokens: args.maxTokens };
  if (!args.stream) {
    const response = await client.completions.create(request);
    return { text: response.choices[0]?.text ?? '', events: 0, model: response.model, usage: response.usage };
  }
  const stream = await client.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = '', model = null, usage = null;
  const events = await consumeStream(stream, (chunk) => {
    text += chunk.choices[0]?.text ?? '';
    model = chunk.model ?? model;
    usage = chunk.usage ?? usage;
  });
  return { text, events, model, usage };
}

async function embeddings() {
  // The SDK asks for base64 and decodes it back to floats, as it does by default.
  const response = await client.embeddings.create({ model: args.model, input: args.prompt });
  const vector = response.data[0]?.embedding ?? [];
  return { text: '', events: 0, model: response.model, usage: response.usage, dimensions: vector.length };
}

const calls = { chat, responses, completions, embeddings };

await runClient(calls[args.api], (error) => {
  if (!(error instanceof OpenAI.APIError)) return null;
  // APIConnectionError (refused, reset, TLS failure) and its timeout subclass have no status.
  return {
    status: error.status ?? 0,
    errorType: error.type ?? null,
    code: error.code ?? null,
    message: error.error?.message ?? error.message,
    cause: describeCause(error),
  };
});
