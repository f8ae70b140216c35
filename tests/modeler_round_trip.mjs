// Read each BPMN file given and write it back as the browser modeler (bpmn-js) saves it: through
// bpmn-moddle, the model bpmn-js edits. Usage: node modeler_round_trip.mjs OUT_DIR FILE...
import { BpmnModdle } from 'bpmn-moddle';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [outDir, ...inputs] = process.argv.slice(2);
const moddle = new BpmnModdle();
for (const input of inputs) {
  const { rootElement, warnings } = await moddle.fromXML(readFileSync(input, 'utf8'));
  if (warnings.length) {
    console.error(input, warnings.map((w) => w.message).join('; '));
    process.exit(1);
  }
  const { xml } = await moddle.toXML(rootElement, { format: true });
  writeFileSync(join(outDir, basename(input)), xml);
}
