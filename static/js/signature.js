// Signatures at the end of an inspection (issue 23): the inspector and a representative of the lab
// sign on a canvas with a finger (or refuse, with a reason, as the paper record allows). All of it
// lives in the draft (IndexedDB), so it works offline and survives the app being closed; submit puts
// it in the inspection's body, which the outbox carries.

const ROLES = ['inspector', 'lab_representative'];

function drawImage(canvas, dataUrl) {
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!dataUrl) return;
  const img = new Image();
  img.onload = () => ctx.drawImage(img, 0, 0);
  img.src = dataUrl;
}

// Pointer strokes on the canvas; `done` gets the canvas as a PNG data URL after each stroke.
function pad(canvas, done) {
  const ctx = canvas.getContext('2d');
  let last = null;
  const at = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * (canvas.width / r.width), (ev.clientY - r.top) * (canvas.height / r.height)];
  };
  canvas.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    last = at(ev);
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!last) return;
    const next = at(ev);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 4;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...next);
    ctx.stroke();
    last = next;
  });
  const end = () => {
    if (!last) return;
    last = null;
    done(canvas.toDataURL('image/png'));
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}

// Wires the signature section `root` to `draft.signatures` ({role: {name, image, signed_at,
// refused, reason}}); `save` writes the draft. `roles`: the signers' boxes (a ticket's reply slip has
// one); the first is prefilled with `inspectorName` (the user's own name).
export function setupSignatures(root, draft, save, inspectorName = '', roles = ROLES) {
  draft.signatures = draft.signatures || {};
  for (const role of roles) {
    const box = root.querySelector(`.signer[data-role="${role}"]`);
    const canvas = box.querySelector('canvas');
    const name = box.querySelector('.signer-name');
    const refuses = box.querySelector('.refuses');
    const reason = box.querySelector('.refusal-reason');
    const own = () => (draft.signatures[role] = draft.signatures[role] || {});
    const s = draft.signatures[role] || {};
    if (s.name !== undefined) name.value = s.name;
    drawImage(canvas, s.image);
    const paint = () => {
      box.dataset.signed = own().image ? '1' : '';
      if (refuses) {
        refuses.checked = !!own().refused;
        box.querySelector('.refusal').hidden = !own().refused;
        canvas.hidden = !!own().refused;
        reason.value = own().reason || '';
      }
    };
    paint();
    pad(canvas, (image) => { Object.assign(own(), { image, signed_at: new Date().toISOString() }); paint(); save(); });
    name.addEventListener('input', () => { own().name = name.value; save(); });
    box.querySelector('.clear-signature').addEventListener('click', () => {
      Object.assign(own(), { image: null, signed_at: null });
      drawImage(canvas, null);
      paint();
      save();
    });
    if (refuses) {
      refuses.addEventListener('change', () => { own().refused = refuses.checked; paint(); save(); });
      reason.addEventListener('input', () => { own().reason = reason.value; save(); });
    }
    if (role === roles[0] && s.name === undefined && inspectorName) {
      name.value = inspectorName; // prefilled with the inspector's own name
      own().name = inspectorName;
    }
  }
}

// The signatures as the server takes them, and what is wrong with them ('' when nothing): a drawn
// signature needs a name, a refusal a reason. A role neither signed nor refused is left out.
export function signaturesBody(draft, roles = ROLES) {
  const out = [];
  let problem = '';
  for (const role of roles) {
    const s = (draft.signatures || {})[role] || {};
    const name = (s.name || '').trim();
    if (s.refused) {
      const reason = (s.reason || '').trim();
      if (!reason) problem = problem || 'refusal_needs_reason';
      out.push({ role, refused: true, reason, name });
    } else if (s.image) {
      if (!name) problem = problem || 'signature_needs_name';
      out.push({ role, name, image: s.image, signed_at: s.signed_at });
    }
  }
  return { signatures: out, problem };
}
