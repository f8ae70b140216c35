// Edit a diagram in the browser (bpmn-js Modeler). The form's textarea holds the XML: the
// modeler starts from it and writes the edited XML back into it before the form is sent, so
// the page also works (as a plain text editor) without JavaScript.
import Modeler from 'bpmn-js/lib/Modeler';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css'; // font files, not data: URLs (the CSP allows fonts from this site only)
import './diagram.css';
import { markProblems, problemElements, showError } from './shared.js';

async function edit(container) {
  const textarea = document.getElementById(container.dataset.diagramEditor);
  const form = textarea.form;
  const modeler = new Modeler({ container });
  try {
    await modeler.importXML(textarea.value);
  } catch (error) {
    showError(container, 'The diagram cannot be drawn; edit its XML below. ' + error.message);
    return;
  }
  modeler.get('canvas').zoom('fit-viewport');
  markProblems(modeler, problemElements(container));
  textarea.closest('.govuk-form-group').classList.add('tw-hidden');
  form.addEventListener('submit', async (event) => {
    if (form.dataset.saved === 'yes') {
      return;
    }
    event.preventDefault();
    const { xml } = await modeler.saveXML({ format: true });
    textarea.value = xml;
    form.dataset.saved = 'yes';
    // Not at once: saving may finish while this submit event is still being dispatched, and a
    // browser ignores requestSubmit() during its own submit event.
    setTimeout(() => form.requestSubmit(event.submitter), 0);
  });
}

document.querySelectorAll('[data-diagram-editor]').forEach(edit);
