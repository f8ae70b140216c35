// Show a deployed diagram read-only (bpmn-js NavigatedViewer): the XML comes from a JSON block.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css'; // font files, not data: URLs (the CSP allows fonts from this site only)
import './diagram.css';
import { markProblems, problemElements, showError } from './shared.js';

async function show(container) {
  const source = document.getElementById(container.dataset.diagramSource);
  const xml = JSON.parse(source.textContent);
  const viewer = new NavigatedViewer({ container });
  try {
    await viewer.importXML(xml);
    viewer.get('canvas').zoom('fit-viewport');
    markProblems(viewer, problemElements(container));
  } catch (error) {
    showError(container, 'The diagram cannot be drawn: ' + error.message);
  }
}

document.querySelectorAll('[data-diagram-viewer]').forEach(show);
