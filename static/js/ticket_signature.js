// The notice's reply slip signed on a ticket (issue 23, art. 28): the lab's officer with the fix, the
// reviewer with its verification. One signer box (templates/tickets/_signature.html) drawn by
// signature.js; the web ticket page posts it in its form (hidden fields), the phone's ticket page
// (tickets.js) puts it in the action's body, which the outbox carries, offline too.
import { setupSignatures, signaturesBody } from './signature.js';

export const SIGNER = ['signer'];

// Wires `box` (a .reply-signature fieldset); returns {draft, body(), reset()}: body() is
// {signature, problem} (signature undefined when nobody signed or refused; problem a message or '').
export function replySlip(box, onChange = () => {}) {
  const draft = { signatures: {} };
  const role = box.querySelector('.signer');
  const image = box.querySelector('.signature-image');
  const signedAt = box.querySelector('.signature-signed-at');
  const save = () => {
    const s = draft.signatures.signer || {};
    if (image) image.value = s.refused ? '' : (s.image || '');
    if (signedAt) signedAt.value = s.refused ? '' : (s.signed_at || '');
    onChange();
  };
  setupSignatures(box, draft, save, role.dataset.ownName || '', SIGNER);
  const body = () => {
    const { signatures, problem } = signaturesBody(draft, SIGNER);
    const [first] = signatures;
    const message = problem === 'signature_needs_name' ? box.dataset.needsName
      : problem === 'refusal_needs_reason' ? box.dataset.needsReason : '';
    const signature = first ? Object.fromEntries(Object.entries(first).filter(([k]) => k !== 'role')) : undefined;
    return { signature, problem: message };
  };
  const reset = () => {
    draft.signatures = {};
    box.querySelector('.signer-name').value = role.dataset.ownName || '';
    draft.signatures.signer = { name: role.dataset.ownName || '' };
    const canvas = box.querySelector('canvas');
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    const refuses = box.querySelector('.refuses');
    if (refuses) { refuses.checked = false; box.querySelector('.refusal').hidden = true; canvas.hidden = false; }
    box.querySelector('.refusal-reason').value = '';
    save();
  };
  return { draft, body, reset };
}

// The web ticket page: each form's box fills its hidden fields; a signature without a name, or a refusal
// without a reason, stops the form with the box's message (the server refuses them too).
for (const box of document.querySelectorAll('.reply-signature[data-form]')) {
  const slip = replySlip(box);
  box.closest('form').addEventListener('submit', (ev) => {
    const { problem } = slip.body();
    const warn = box.querySelector('.signature-problem');
    warn.hidden = !problem;
    warn.textContent = problem;
    if (problem) ev.preventDefault();
  });
}
