// The round planning form (templates/rounds/new.html), progressively enhanced: without this script
// every part shows and the server says what does not fit; with it, only the parts that apply to the
// kind and the way of choosing labs show, and the checklists and inspectors that fit the kind.
const form = document.getElementById('round-form');

function checked(name) {
  const input = form.querySelector(`input[name="${name}"]:checked`) || form.querySelector(`input[type="hidden"][name="${name}"]`);
  return input ? input.value : '';
}

function ownerCollege() {
  const field = form.querySelector('[name="owner_college_id"]');
  return field ? field.value : '';
}

function update() {
  const kind = checked('kind');
  const mode = checked('labs_mode');
  form.querySelectorAll('[data-show-kind]').forEach((node) => { node.hidden = node.dataset.showKind !== kind; });
  form.querySelectorAll('[data-show-mode]').forEach((node) => { node.hidden = node.dataset.showMode !== mode; });
  // The checklists that serve this kind of round (checklists.LEVELS_BY_KIND).
  const select = form.querySelector('select[name="checklist_key"]');
  if (select) {
    for (const option of select.options) option.hidden = !option.dataset.kinds.split(' ').includes(kind);
    if (select.selectedOptions[0] && select.selectedOptions[0].hidden) {
      const first = [...select.options].find((option) => !option.hidden);
      if (first) select.value = first.value;
    }
  }
  // Inspectors who may inspect at this kind's level: the school's, or the college's monthly check.
  const college = ownerCollege();
  form.querySelectorAll('[data-school]').forEach((node) => {
    const fits = kind === 'college_monthly'
      ? Boolean(college) && node.dataset.colleges.split(' ').includes(college)
      : node.dataset.school === '1';
    node.hidden = !fits && !node.querySelector('input').checked; // a ticked one stays visible
  });
}

if (form) {
  form.addEventListener('change', update);
  update();
  document.body.dataset.roundFormReady = '1';
}
