// Helpers shared by the viewer and the modeler pages: read page data, mark problem elements.

export function problemElements(container) {
  try {
    return JSON.parse(container.dataset.problemElements || '[]');
  } catch (error) {
    return [];
  }
}

export function markProblems(bpmn, ids) {
  const registry = bpmn.get('elementRegistry');
  const canvas = bpmn.get('canvas');
  for (const id of ids) {
    if (registry.get(id)) {
      canvas.addMarker(id, 'tw-problem');
    }
  }
}

export function showError(container, message) {
  const note = document.createElement('p');
  note.className = 'govuk-error-message';
  note.textContent = message;
  container.replaceChildren(note);
}
