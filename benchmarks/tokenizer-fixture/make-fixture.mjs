// Computes real BPE token counts (o200k_base, the GPT-4o family's encoding, and cl100k_base, GPT-4/3.5's) for a
// varied corpus, written to ResearchAssistant.Tests/Context/token-fixture.json. Run offline, once, by a developer:
//   npm i gpt-tokenizer@4.0.0 && node make-fixture.mjs
// The tests and benchmarks only read the JSON; nothing here runs in CI.
import { writeFileSync } from 'node:fs';
import { encode as o200k } from 'gpt-tokenizer/encoding/o200k_base';
import { encode as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';

const prose = [
  'The carbon cycle moves carbon between the atmosphere, oceans, soils and living things.',
  'What did you say about the carbon cycle two days ago? I want to cite it in my literature review.',
  'Photosynthesis fixes atmospheric CO2 into sugars, and respiration releases it again; the balance sets the seasonal swing in the Keeling curve.',
  'Please summarise the three strongest arguments against the hypothesis, with references where you can.',
  'Ocean uptake accounts for roughly a quarter of anthropogenic emissions, although the fraction varies from year to year with El Niño.',
  'Methodology: we sampled 412 participants (mean age 34.7, SD 9.2) across 12 sites between 2019 and 2023.',
  'I disagree with the reviewer: the effect size is small but robust, and the preregistration rules out p-hacking.',
  'Can you explain, in plain language, why the confidence interval is wider for the subgroup analysis?',
  'Notwithstanding the aforementioned considerations, the interdisciplinary collaboration demonstrated extraordinary methodological sophistication.',
  "It's not that the model is wrong — it's that we're asking it the wrong question, aren't we?",
];
const code = [
  'public static int Count(string text) => text.Split(\' \', StringSplitOptions.RemoveEmptyEntries).Length;',
  'SELECT e."Id", e."ParentId" FROM "SessionEvents" e WHERE e."SessionId" = @id ORDER BY e."Seq" DESC LIMIT 50;',
  'def bm25(tf, df, n, dl, avgdl, k1=1.2, b=0.75):\n    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))\n    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))',
  'const result = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "Content-Type": "application/json" } });',
  '```bash\ndotnet run --project ResearchAssistant.Web\n./test.sh\n```',
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}',
];
const mixed = [
  '## Results\n\n| Site | n | Mean |\n|---|---|---|\n| A | 120 | 3.41 |\n| B | 98 | 2.97 |\n\n**Bold** and *italic* and `inline code`.',
  'See https://doi.org/10.1038/s41586-020-2649-2 and https://example.org/papers?id=12345&format=pdf for details.',
  'Call +44 20 7946 0958 or email research.office@example.ac.uk before 17:30 on 2024-03-15.',
  '1. First point\n2. Second point\n   - nested detail\n   - another detail\n3. Third point',
  'E = mc^2; ΔG = ΔH − TΔS; ∑ᵢ xᵢ² ≥ 0; α, β, γ are the parameters.',
  '😀 Emoji-heavy text 🚀🔬📚 with some words in between 🌍.',
];
const languages = [
  'Der Kohlenstoffkreislauf beschreibt den Austausch von Kohlenstoff zwischen Atmosphäre, Ozeanen und Biosphäre.',
  "Le cycle du carbone décrit les échanges de carbone entre l'atmosphère, les océans et la biosphère.",
  'El ciclo del carbono describe el intercambio de carbono entre la atmósfera, los océanos y la biosfera.',
  '炭素循環は、大気、海洋、生物圏の間での炭素の交換を表します。',
  '碳循环描述了大气、海洋和生物圈之间的碳交换。',
  'Углеродный цикл описывает обмен углеродом между атмосферой, океанами и биосферой.',
  'Ο κύκλος του άνθρακα περιγράφει την ανταλλαγή άνθρακα.',
];
const long = [
  prose.join(' '),
  prose.concat(code).join('\n\n'),
  Array.from({ length: 30 }, (_, i) => `Message ${i + 1}: ${prose[i % prose.length]}`).join('\n'),
];

const samples = [...prose, ...code, ...mixed, ...languages, ...long].map((text, index) => ({
  id: index + 1,
  kind: index < prose.length ? 'prose' : index < prose.length + code.length ? 'code' : index < prose.length + code.length + mixed.length ? 'mixed'
      : index < prose.length + code.length + mixed.length + languages.length ? 'language' : 'long',
  text,
  o200k_base: o200k(text).length,
  cl100k_base: cl100k(text).length,
}));
writeFileSync(new URL('../../ResearchAssistant.Tests/Context/token-fixture.json', import.meta.url),
  JSON.stringify({ tokenizer: 'gpt-tokenizer 4.0.0', encodings: ['o200k_base', 'cl100k_base'], samples }, null, 2) + '\n');
console.log(`${samples.length} samples written`);
