// What the three SDK test clients share: the command line, the one JSON line they print, and the
// rule for exit codes. A call that the SDK reports as failed (an HTTP error, a connection refused
// or reset, a timeout) is a result like any other: {"ok":false,...} and exit 0. Exit 1 means the
// harness itself is wrong (a bad argument, an exception the SDK does not throw for API failures).
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = `usage: node CLIENT.mjs [--api NAME] [--sdk GENERATION] [--model M] [--prompt TEXT]
                        [--api-key KEY] [--stream] [--max-tokens N] [--timeout-ms MS]`;

// The parsed command line, with DEFAULTS for what was not given. APIS: the accepted --api values,
// SDKS the accepted --sdk values (which installed generation of the SDK to load), the first of
// each the default.
export function parseClientArgs(defaults, apis, sdks = ['current']) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        api: { type: 'string', default: apis[0] },
        sdk: { type: 'string', default: sdks[0] },
        model: { type: 'string', default: defaults.model },
        prompt: { type: 'string', default: 'Say hello.' },
        'api-key': { type: 'string', default: defaults.apiKey },
        stream: { type: 'boolean', default: false },
        'max-tokens': { type: 'string', default: '64' },
        'timeout-ms': { type: 'string', default: '30000' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    harnessBug(`${error.message}\n${USAGE}`);
  }
  if (values.help) {
    writeSync(1, `${USAGE}\n--api: ${apis.join('|')}\n--sdk: ${sdks.join('|')}\n`);
    process.exit(0);
  }
  if (!apis.includes(values.api)) harnessBug(`--api must be one of ${apis.join('|')}\n${USAGE}`);
  if (!sdks.includes(values.sdk)) harnessBug(`--sdk must be one of ${sdks.join('|')}\n${USAGE}`);
  const maxTokens = Number(values['max-tokens']);
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isInteger(maxTokens) || maxTokens <= 0) harnessBug(`bad --max-tokens\n${USAGE}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) harnessBug(`bad --timeout-ms\n${USAGE}`);
  return {
    api: values.api,
    sdk: values.sdk,
    model: values.model,
    prompt: values.prompt,
    apiKey: values['api-key'],
    stream: values.stream,
    maxTokens,
    timeoutMs,
  };
}

// The SDKs read base URLs from the environment; these clients always call the real host names.
export function clearBaseUrlOverrides(names) {
  for (const name of names) delete process.env[name];
}

// Written synchronously, then exit at once: an SDK may leave a timer behind (a request timeout)
// that would keep the process alive after the answer.
function printAndExit(result) {
  writeSync(1, `${JSON.stringify(result)}\n`);
  process.exit(0);
}

export function harnessBug(message) {
  writeSync(2, `test client: ${message}\n`);
  process.exit(1);
}

// Runs CALL (an async function returning {text, events, model, usage, ...}) and prints the
// outcome. DESCRIBE_FAILURE maps an exception to {status, errorType, message, ...} when it is the
// SDK reporting a failed call, or to null when it is a harness bug.
export async function runClient(call, describeFailure) {
  let result;
  try {
    result = { ok: true, ...(await call()) };
  } catch (error) {
    const failure = describeFailure(error);
    if (failure === null) harnessBug(`unexpected exception: ${error?.stack ?? error}`);
    result = { ok: false, errorClass: error?.constructor?.name ?? typeof error, ...failure };
  }
  printAndExit(result);
}

// An SDK error's cause and the causes under it (fetch hides the socket's error one level down).
export function describeCause(error) {
  const causes = [];
  for (let cause = error?.cause; cause && causes.length < 4; cause = cause.cause) causes.push(String(cause));
  return causes.length ? causes.join(': ') : undefined;
}

// Counts the events of an SDK stream, handing each to ON_EVENT.
export async function consumeStream(stream, onEvent) {
  let events = 0;
  for await (const event of stream) {
    ++events;
    onEvent(event);
  }
  return events;
}
