// The official Google Gen AI SDK, unmodified, calling https://generativelanguage.googleapis.com (its
// default base URL for the Gemini API). Prints one JSON line; see common.mjs.
import { GoogleGenAI } from '@google/genai';

import { clearBaseUrlOverrides, consumeStream, parseClientArgs, runClient } from './common.mjs';

const args = parseClientArgs({ model: 'gemini-2.0-flash', apiKey: 'AIzaShadowaiTestGeminiKey' }, ['generate']);
clearBaseUrlOverrides(['GOOGLE_GEMINI_BASE_URL', 'GOOGLE_VERTEX_BASE_URL', 'GOOGLE_GENAI_USE_VERTEXAI']);
// This SDK version never retries.
const ai = new GoogleGenAI({ apiKey: args.apiKey, httpOptions: { timeout: args.timeoutMs } });

async function generate() {
  const request = { model: args.model, contents: args.prompt, config: { maxOutputTokens: args.maxTokens } };
  if (!args.stream) {
    const response = await ai.models.generateContent(request);
    return { text: response.text ?? '', events: 0, model: response.modelVersion ?? null, usage: response.usageMetadata ?? null };
  }
  const stream = await ai.models.generateContentStream(request);
  let text = '', model = null, usage = null;
  const events = await consumeStream(stream, (chunk) => {
    text += chunk.text ?? '';
    model = chunk.modelVersion ?? model;
    usage = chunk.usageMetadata ?? usage;
  });
  return { text, events, model, usage };
}

// This SDK version reports an HTTP error as ClientError/ServerError whose message is
// "got status: 403 Forbidden. {<the JSON body>}", and a transport failure as a plain Error
// "exception <cause> sending request".
function describeFailure(error) {
  if (!(error instanceof Error)) return null;
  if (error.name === 'ClientError' || error.name === 'ServerError') {
    const match = /^got status: (\d+)[^.]*\. (.*)$/s.exec(error.message);
    let body = null;
    try {
      body = match ? JSON.parse(match[2]) : null;
    } catch {
      body = null;
    }
    return {
      status: match ? Number(match[1]) : 0,
      errorType: body?.error?.status ?? null,
      message: body?.error?.message ?? error.message,
    };
  }
  if (/^exception .* sending request$/s.test(error.message)) {
    return { status: 0, errorType: null, message: error.message };
  }
  return null;
}

await runClient(generate, describeFailure);
