// The official Anthropic SDK, unmodified, calling https://api.anthropic.com (its default base URL).
// Prints one JSON line; see common.mjs. Two generations are installed, as both run in the wild:
// --sdk current (1.x: anthropic-version 2026-10-21, the key as Authorization: Bearer) and --sdk 0
// (0.x: anthropic-version 2023-06-01, the key as x-api-key).
import { clearBaseUrlOverrides, consumeStream, describeCause, parseClientArgs, runClient } from './common.mjs';

const args = parseClientArgs({ model: 'claude-3-5-haiku-latest', apiKey: 'sk-ant-shadowai-test-anthropic-key' },
                             ['messages'], ['current', '0']);
const { default: Anthropic } = await import(args.sdk === '0' ? 'anthropic-sdk-0' : '@anthropic-ai/sdk');
clearBaseUrlOverrides(['ANTHROPIC_BASE_URL']);
const client = new Anthropic({ apiKey: args.apiKey, authToken: null, maxRetries: 0, timeout: args.timeoutMs });

async function messages() {
  const request = { model: args.model, max_tokens: args.maxTokens, messages: [{ role: 'user', content: args.prompt }] };
  if (!args.stream) {
    const message = await client.messages.create(request);
    const text = message.content.filter((block) => block.type === 'text').map((block) => block.text).join('');
    return { text, events: 0, model: message.model, usage: message.usage };
  }
  const stream = await client.messages.create({ ...request, stream: true });
  let text = '', model = null, usage = null;
  const events = await consumeStream(stream, (event) => {
    if (event.type === 'message_start') ({ model, usage } = event.message);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    if (event.type === 'message_delta') usage = { ...usage, ...event.usage };
  });
  return { text, events, model, usage };
}

await runClient(messages, (error) => {
  if (!(error instanceof Anthropic.APIError)) return null;
  // The body is {"type":"error","error":{"type":...,"message":...}}; connection errors have none.
  return {
    status: error.status ?? 0,
    errorType: error.type ?? error.error?.error?.type ?? null,
    message: error.apiMessage ?? error.error?.error?.message ?? error.message,
    cause: describeCause(error),
  };
});
