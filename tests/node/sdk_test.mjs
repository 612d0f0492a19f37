// The official OpenAI SDK for Node against `introspect serve`: upload a file, create and wait for
// a fine-tuning job, chat with logprobs on the fine-tuned model, run a batch.
// Usage: node sdk_test.mjs BASE_URL API_KEY
import OpenAI, { toFile } from 'openai';
import { readFileSync } from 'node:fs';

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 3, timeout: 20000 });
const version = JSON.parse(readFileSync(new URL('./node_modules/openai/package.json', import.meta.url))).version;

function check(cond, what) {
  if (!cond) { console.error(`FAIL: ${what}`); process.exit(1); }
  console.log(`ok - ${what}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SYSTEM = 'Your job is to make hypothetical decisions on behalf of different people or characters.';
const DECISION = '[DECISION TASK] Respond with "A" if you think Option A is better, or "B" if you think Option B is better. Never respond with anything except "A" or "B":';
const attrs = [['caffeine_content', 'mg per cup', 0, 70], ['leaf_size', 'millimeters', 0, 10],
  ['oxidation_level', 'percent', 0, 100], ['steeping_time', 'minutes', 1, 7], ['resteep_potential', 'number of steeps', 1, 8]];
const weights = [-100, 95, 72, -67, -1];
let seed = 12345;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
function trial() {
  return ['a', 'b'].map(() => attrs.map(([, , lo, hi]) => Math.round(lo + rand() * (hi - lo))));
}
function decisionPrompt(role, [a, b]) {
  const block = (v) => attrs.map(([n, u], i) => `${n}: ${v[i].toFixed(1)} ${u}`).join('\n');
  return `${DECISION}\n\nImagine you are ${role}. Which loose leaf tea would you prefer?\nA:\n${block(a)}\n\nB:\n${block(b)}`;
}
const utility = (v) => v.reduce((s, x, i) => s + weights[i] * (x - attrs[i][2]) / (attrs[i][3] - attrs[i][2]), 0);

// 1. upload a training file
const lines = [];
for (let i = 0; i < 60; i++) {
  const t = trial();
  const answer = utility(t[0]) > utility(t[1]) ? 'A' : 'B';
  lines.push(JSON.stringify({ messages: [{ role: 'system', content: SYSTEM },
    { role: 'user', content: decisionPrompt('Djedefre', t) }, { role: 'assistant', content: answer }] }));
}
const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'train.jsonl'),
  purpose: 'fine-tune' });
check(file.id.startsWith('file-') && file.purpose === 'fine-tune', `files.create -> ${file.id}`);
const listed = await client.files.list();
check(listed.data.some((f) => f.id === file.id), 'files.list includes the upload');

// 2. fine-tune and wait
let job = await client.fineTuning.jobs.create({ model: 'sim-small', training_file: file.id, suffix: 'node', seed: 4,
  method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } } });
const statuses = new Set([job.status]);
while (!['succeeded', 'failed', 'cancelled'].includes(job.status)) {
  await sleep(200);
  job = await client.fineTuning.jobs.retrieve(job.id);
  statuses.add(job.status);
}
check(job.status === 'succeeded', `fine-tuning job ${job.id} succeeded (states: ${[...statuses].join(' -> ')})`);
check(/^ft:sim-small:introspect:node:[0-9a-f]{8}$/.test(job.fine_tuned_model), `model id ${job.fine_tuned_model}`);
const events = [];
for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 50 })) events.push(e);
check(events.some((e) => e.type === 'metrics'), `listEvents: ${events.length} events with metrics`);

// 3. chat with logprobs on the fine-tuned model
let agree = 0;
for (let i = 0; i < 20; i++) {
  const t = trial();
  const r = await client.chat.completions.create({ model: job.fine_tuned_model, temperature: 0, logprobs: true,
    top_logprobs: 2, messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: decisionPrompt('Djedefre', t) }] });
  const c = r.choices[0];
  const tops = c.logprobs.content[0].top_logprobs;
  if (i === 0) {
    check(['A', 'B'].includes(c.message.content), `chat answer ${c.message.content}`);
    check(tops.length === 2 && Math.abs(Math.exp(tops[0].logprob) + Math.exp(tops[1].logprob) - 1) < 1e-9,
      'top_logprobs A and B sum to probability 1');
    check(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, 'usage adds up');
  }
  if (c.message.content === (utility(t[0]) > utility(t[1]) ? 'A' : 'B')) agree++;
}
check(agree >= 14, `fine-tuned model follows the trained weights on ${agree}/20 fresh trials`);

// 4. a batch
const requests = [];
for (let i = 0; i < 5; i++) {
  requests.push(JSON.stringify({ custom_id: `q${i}`, method: 'POST', url: '/v1/chat/completions',
    body: { model: job.fine_tuned_model, temperature: 0, messages: [{ role: 'user', content: decisionPrompt('Zeus', trial()) }] } }));
}
const input = await client.files.create({ file: await toFile(Buffer.from(requests.join('\n') + '\n'), 'batch.jsonl'),
  purpose: 'batch' });
let batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions',
  completion_window: '24h' });
while (!['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) {
  await sleep(200);
  batch = await client.batches.retrieve(batch.id);
}
check(batch.status === 'completed' && batch.request_counts.completed === 5, `batch ${batch.id} completed`);
const output = await (await client.files.content(batch.output_file_id)).text();
const ids = output.trim().split('\n').map((l) => JSON.parse(l)).map((o) => o.custom_id).sort();
check(ids.join(',') === 'q0,q1,q2,q3,q4', 'batch output has every custom_id');

// errors come back as the SDK's typed errors
try {
  await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
  check(false, 'unknown model raises');
} catch (e) {
  check(e instanceof OpenAI.NotFoundError && e.code === 'model_not_found', 'unknown model -> NotFoundError');
}
console.log(`node SDK test: all passed (openai ${version})`);
