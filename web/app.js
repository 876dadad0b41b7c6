// digits page: upload an image or write on the pad, show the server's digits over it.
// Plain browser JavaScript with no dependencies; digits-serve embeds this file as /app.js.
'use strict';

// Relative URLs, so the page also works when a proxy serves it under a path prefix.
const RECOGNISE_URL = 'api/digit_recognize';
const MODEL_URL = 'api/model';
const ALTERNATIVES = 3;
const DEBOUNCE_MS = 300;
const INK = '#111111';
const PAPER = '#ffffff';

const $ = (id) => document.getElementById(id);

const ui = {
  minProbability: $('min-probability'),
  minProbabilityValue: $('min-probability-value'),
  fileInput: $('file'),
  dropzone: $('dropzone'),
  imageStage: $('image-stage'),
  image: $('image'),
  imageOverlay: $('image-overlay'),
  imageCaption: $('image-caption'),
  pad: $('pad'),
  padOverlay: $('pad-overlay'),
  penWidth: $('pen-width'),
  penWidthValue: $('pen-width-value'),
  undo: $('undo'),
  clear: $('clear'),
  resultCard: $('result-card'),
  source: $('result-source'),
  status: $('status'),
  error: $('error'),
  text: $('text'),
  digits: $('digits'),
  json: $('json'),
  model: $('model'),
};

// ---------------------------------------------------------------------------------------------
// Recognition: one request at a time is current; an older answer arriving late is dropped.

let latestRequest = 0;
let inflight = null;        // AbortController of the current request
let lastSource = null;      // what to send again when the minimum probability changes
let pendingTimer = 0;

function minProbability() {
  return Number(ui.minProbability.value);
}

// Waits DEBOUNCE_MS of quiet before sending, so a burst of strokes or slider steps is one request.
function scheduleRecognition(source) {
  clearTimeout(pendingTimer);
  pendingTimer = setTimeout(() => recognise(source), DEBOUNCE_MS);
}

function cancelScheduledRecognition() {
  clearTimeout(pendingTimer);
  pendingTimer = 0;
}

async function recognise(source) {
  cancelScheduledRecognition();
  lastSource = source;
  const request = ++latestRequest;
  if (inflight) inflight.abort();
  const controller = new AbortController();
  inflight = controller;
  showBusy(source);
  try {
    const { blob, name } = await source.payload();
    const form = new FormData();
    form.append('file', blob, name);
    const query = new URLSearchParams({ min_probability: String(minProbability()), alternatives: String(ALTERNATIVES) });
    const response = await send(`${RECOGNISE_URL}?${query}`, { method: 'POST', body: form, signal: controller.signal });
    const data = await readAnswer(response);
    if (request !== latestRequest) return;
    showResult(source, data);
  } catch (error) {
    if (error.name === 'AbortError' || request !== latestRequest) return;
    showFailure(source, error);
  } finally {
    if (inflight === controller) inflight = null;
  }
}

// fetch rejects with a bare "Failed to fetch" when the server is gone: say so in words.
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new RecognitionError('cannot reach the server (is digits-serve still running?)', null);
  }
}

// The server answers JSON, but a proxy or the HTTP library itself may answer an error page.
async function readAnswer(response) {
  const body = await response.text();
  let data = null;
  try {
    data = JSON.parse(body);
  } catch {
    throw new RecognitionError(describeStatus(response), null);
  }
  if (!response.ok || data.success !== true) {
    throw new RecognitionError(data.error || describeStatus(response), data);
  }
  return data;
}

class RecognitionError extends Error {
  constructor(message, answer) {
    super(message);
    this.answer = answer;
  }
}

function describeStatus(response) {
  if (response.status === 413) return 'the image is too large for the server';
  return `the server answered HTTP ${response.status} ${response.statusText}`.trim();
}

// ---------------------------------------------------------------------------------------------
// Showing a result: the big text, one entry per digit, the raw JSON and the boxes.

// Floors, so 99.96% is not shown as 100%. The server rounds to 4 decimals, so its 1 means
// "at least 0.99995" (a digit can be uncertain at min_probability 1 and still read 1): ">99.9%".
function percent(probability, decimals = 1) {
  const scale = 10 ** decimals;
  if (probability >= 1) return `>${(100 - 1 / scale).toFixed(decimals)}%`;
  if (probability > 0 && probability * 100 * scale < 1) return `<${(1 / scale).toFixed(decimals)}%`;
  return `${(Math.floor(probability * 100 * scale) / scale).toFixed(decimals)}%`;
}

// Indented JSON with the innermost arrays and objects (boxes, alternatives) kept on one line.
function formatJson(value) {
  return JSON.stringify(value, null, 2)
    .replace(/[[{][^[\]{}]*[\]}]/g, (inner) => inner
      .replace(/^([[{])\s*\n\s*/, '$1')
      .replace(/\s*\n\s*([\]}])$/, '$1')
      .replace(/\s*\n\s*/g, ' '));
}

// aria-busy tells assistive technology (and the browser test) that a result is on its way.
function setBusy(busy) {
  ui.resultCard.setAttribute('aria-busy', String(busy));
}

function showBusy(source) {
  setBusy(true);
  ui.status.textContent = 'Recognising…';
  ui.error.hidden = true;
  ui.source.textContent = `· ${source.label}`;
  source.overlay.classList.add('stale');
}

function showResult(source, data) {
  const predictions = data.predictions;
  setBusy(false);
  ui.error.hidden = true;
  ui.status.textContent = predictions.length === 0 ? 'No digits found.'
    : `${predictions.length} digit${predictions.length === 1 ? '' : 's'} found: ${data.text}`;
  renderText(data.text);
  renderDigitList(predictions);
  ui.json.textContent = formatJson(data);
  setBoxes(source.overlay, predictions);
  revealResult(source);
}

function showFailure(source, error) {
  setBusy(false);
  ui.status.textContent = '';
  ui.error.textContent = `Could not recognise ${source.label}: ${error.message}.`;
  ui.error.hidden = false;
  renderText('');
  renderDigitList([]);
  ui.json.textContent = error.answer ? formatJson(error.answer) : '';
  setBoxes(source.overlay, []);
  revealResult(source);
}

// In one column (a phone) the result is below both cards, out of sight after an upload: scroll
// it into view once per new image. Not for the pad (it would pull the pad from under the
// finger between strokes) nor when the slider asks again (the page would jump under the thumb).
const oneColumn = window.matchMedia('(max-width: 700px)');
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
function revealResult(source) {
  if (!source.reveal) return;
  source.reveal = false;
  if (!oneColumn.matches) return;
  const rect = ui.resultCard.getBoundingClientRect();
  if (rect.top >= 0 && rect.bottom <= window.innerHeight) return;
  ui.resultCard.scrollIntoView({ block: 'start', behavior: reducedMotion.matches ? 'auto' : 'smooth' });
}

function clearResult() {
  ui.status.textContent = '';
  ui.error.hidden = true;
  ui.source.textContent = '';
  renderText('');
  renderDigitList([]);
  ui.json.textContent = '';
  setBusy(false);
}

// Shows the server's text character for character (so "?" stays where the server put it),
// styling the uncertain ones. The server separates the text's lines with "\n", which the
// element shows as line breaks (white-space: pre-line).
function renderText(text) {
  ui.text.replaceChildren(...[...text].map((character) => {
    if (character === '\n') return document.createTextNode('\n');
    const span = document.createElement('span');
    span.textContent = character;
    if (character === '?') {
      span.className = 'uncertain';
      span.title = 'uncertain digit';
    }
    return span;
  }));
}

function renderDigitList(predictions) {
  ui.digits.replaceChildren(...predictions.map((prediction) => {
    const item = document.createElement('li');
    const digit = document.createElement('strong');
    digit.textContent = prediction.uncertain ? `${prediction.digit}?` : String(prediction.digit);
    item.append(digit, ` ${percent(prediction.probability)}`);
    if (prediction.uncertain) {
      item.classList.add('uncertain');
      item.append(' (uncertain)');
    }
    // Runners-up under half a percent are noise here; the raw JSON still has them.
    const others = (prediction.alternatives || []).slice(1).filter((a) => a.probability >= 0.005);
    if (others.length > 0) {
      const span = document.createElement('span');
      span.className = 'alternatives';
      span.textContent = ` · then ${others.map((a) => `${a.digit} ${percent(a.probability)}`).join(', ')}`;
      item.append(span);
    }
    return item;
  }));
}

// ---------------------------------------------------------------------------------------------
// Boxes: positioned in displayed pixels from the image's natural pixels, laid out again
// whenever the image or pad changes size.

function setBoxes(overlay, predictions) {
  overlay.classList.remove('stale');
  overlay.replaceChildren(...predictions.map((prediction) => {
    const box = document.createElement('div');
    box.className = prediction.uncertain ? 'box uncertain' : 'box';
    box.dataset.box = prediction.box.join(',');
    box.dataset.digit = String(prediction.digit);
    const label = document.createElement('span');
    label.className = 'label';
    // Whole percents keep labels short enough not to cover the neighbours' (the list has decimals).
    const digit = document.createElement('span');
    digit.textContent = `${prediction.digit}${prediction.uncertain ? '?' : ''}`;
    const probability = document.createElement('span');
    probability.className = 'label-probability';
    probability.textContent = ` ${percent(prediction.probability, 0)}`;
    label.append(digit, probability);
    box.append(label);
    return box;
  }));
  layoutOverlay(overlay);
}

// The element under an overlay and its size in natural pixels (the image file's or the pad's).
function overlayTarget(overlay) {
  if (overlay === ui.imageOverlay) {
    return { element: ui.image, width: ui.image.naturalWidth, height: ui.image.naturalHeight };
  }
  return { element: ui.pad, width: ui.pad.width, height: ui.pad.height };
}

// Puts the overlay exactly over the picture as displayed and every box at its natural
// position times the natural-to-displayed ratio. The image is fitted with object-fit: contain,
// so the picture may be letterboxed inside its element.
function layoutOverlay(overlay) {
  const { element, width, height } = overlayTarget(overlay);
  if (!width || !height || !element.clientWidth) return;   // not loaded or not shown yet
  const scale = Math.min(element.clientWidth / width, element.clientHeight / height);
  const shownWidth = width * scale;
  const shownHeight = height * scale;
  Object.assign(overlay.style, {
    left: `${element.offsetLeft + element.clientLeft + (element.clientWidth - shownWidth) / 2}px`,
    top: `${element.offsetTop + element.clientTop + (element.clientHeight - shownHeight) / 2}px`,
    width: `${shownWidth}px`,
    height: `${shownHeight}px`,
  });
  const boxes = [...overlay.children].map((box) => {
    const [x, y, w, h] = box.dataset.box.split(',').map((n) => Number(n) * scale);
    Object.assign(box.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
    return { box, x, y, w, h };
  });
  placeLabels(boxes, shownWidth, shownHeight);
}

// Each label goes where it covers no label already placed and stays on the picture: above or
// below its box, where it covers no other box if it can, else inside the top of its own box.
// Where boxes are small and close (a photo of many digits on a phone) a label drops its
// percentage, and where even the digit alone would cover another label it is hidden: the list
// under the result still has every digit and its probability.
function placeLabels(boxes, pictureWidth, pictureHeight) {
  const GAP = 1;   // px kept between labels, so rounding never makes two touch
  const labels = boxes.map(({ box }) => {
    box.classList.remove('label-compact', 'label-hidden', 'label-below');
    return box.querySelector('.label');
  });
  const full = labels.map((label) => ({ width: label.offsetWidth, height: label.offsetHeight }));
  boxes.forEach(({ box }) => box.classList.add('label-compact'));
  const compact = labels.map((label) => ({ width: label.offsetWidth, height: label.offsetHeight }));

  const hits = (r, others, gap) => others.some((o) => r.left < o.right + gap && o.left < r.right + gap
    && r.top < o.bottom + gap && o.top < r.bottom + gap);
  const boxRects = boxes.map(({ x, y, w, h }) => ({ left: x, right: x + w, top: y, bottom: y + h }));
  const placed = [];
  boxes.forEach(({ box, x, y, h }, i) => {
    const candidates = (where) => [[false, full[i]], [true, compact[i]]].flatMap(([isCompact, { width, height }]) => {
      const left = Math.max(0, Math.min(x, pictureWidth - width));
      const at = (top, below) => ({ left, right: left + width, top, bottom: top + height, below, isCompact });
      return where === 'inside' ? [at(y, true)] : [at(y - height, false), at(y + h, true)];
    });
    const onPicture = (r) => r.top >= 0 && r.bottom <= pictureHeight;
    const otherBoxes = boxRects.filter((_, j) => j !== i);
    const chosen = candidates('outside').find((r) => onPicture(r) && !hits(r, placed, GAP) && !hits(r, otherBoxes, 0))
      || candidates('outside').find((r) => onPicture(r) && !hits(r, placed, GAP))
      || candidates('inside').find((r) => onPicture(r) && !hits(r, placed, GAP));
    box.classList.toggle('label-compact', Boolean(chosen?.isCompact));
    box.classList.toggle('label-hidden', !chosen);
    if (!chosen) return;
    box.classList.toggle('label-below', chosen.below);
    // The label is positioned inside the box's 2 px border: offsets are from the padding box.
    const border = box.clientLeft;
    Object.assign(labels[i].style, { left: `${chosen.left - x - border}px`, top: `${chosen.top - y - border}px` });
    placed.push(chosen);
  });
}

const resizeObserver = new ResizeObserver(() => {
  layoutOverlay(ui.imageOverlay);
  layoutOverlay(ui.padOverlay);
});
resizeObserver.observe(ui.image);
resizeObserver.observe(ui.pad);

// ---------------------------------------------------------------------------------------------
// Upload: file picker, drag and drop, paste.

let imageUrl = null;

function fileSource(file) {
  return {
    label: file.name || 'the pasted image',
    overlay: ui.imageOverlay,
    payload: async () => ({ blob: file, name: file.name || 'pasted.png' }),
    reveal: true,   // the first answer for a new image is brought into view (see revealResult)
  };
}

function handleFile(file) {
  if (!file) return;
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(file);
  setBoxes(ui.imageOverlay, []);
  ui.imageCaption.textContent = `${file.name || 'pasted image'} · ${formatBytes(file.size)}`;
  ui.image.src = imageUrl;
  ui.imageStage.hidden = false;
  recognise(fileSource(file));
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

ui.image.addEventListener('load', () => layoutOverlay(ui.imageOverlay));
// A file the browser cannot show (not an image, or a format it lacks) still goes to the server,
// which says what is wrong; only the broken picture is hidden.
ui.image.addEventListener('error', () => {
  if (ui.image.getAttribute('src')) ui.imageStage.hidden = true;
});

ui.fileInput.addEventListener('change', () => {
  handleFile(ui.fileInput.files[0]);
  ui.fileInput.value = '';   // so choosing the same file again is a change too
});

for (const type of ['dragenter', 'dragover']) {
  ui.dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    ui.dropzone.classList.add('dragging');
  });
}
for (const type of ['dragleave', 'drop']) {
  ui.dropzone.addEventListener(type, () => ui.dropzone.classList.remove('dragging'));
}
ui.dropzone.addEventListener('drop', (event) => {
  event.preventDefault();
  handleFile(event.dataTransfer.files[0]);
});
// A file dropped beside the drop zone must not make the browser leave the page to open it.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

document.addEventListener('paste', (event) => {
  const item = [...event.clipboardData.items].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  if (item) handleFile(item.getAsFile());
});

// ---------------------------------------------------------------------------------------------
// The pad: dark ink on white, strokes kept as points so undo can repaint without the last one.

const context = ui.pad.getContext('2d');
const strokes = [];
let activeStroke = null;

const padSource = {
  label: 'the drawing',
  overlay: ui.padOverlay,
  payload: () => new Promise((resolve, reject) => {
    ui.pad.toBlob((blob) => (blob ? resolve({ blob, name: 'drawing.png' }) : reject(new Error('cannot encode the drawing'))), 'image/png');
  }),
};

function padPoint(event) {
  const rect = ui.pad.getBoundingClientRect();
  const x = (event.clientX - rect.left - ui.pad.clientLeft) * (ui.pad.width / ui.pad.clientWidth);
  const y = (event.clientY - rect.top - ui.pad.clientTop) * (ui.pad.height / ui.pad.clientHeight);
  return { x, y };
}

function paintStroke(stroke) {
  context.strokeStyle = INK;
  context.fillStyle = INK;
  context.lineWidth = stroke.width;
  context.lineCap = 'round';
  context.lineJoin = 'round';
  const [first, ...rest] = stroke.points;
  if (rest.length === 0) {         // a tap is a dot
    context.beginPath();
    context.arc(first.x, first.y, stroke.width / 2, 0, Math.PI * 2);
    context.fill();
    return;
  }
  context.beginPath();
  context.moveTo(first.x, first.y);
  for (const point of rest) context.lineTo(point.x, point.y);
  context.stroke();
}

function repaintPad() {
  context.fillStyle = PAPER;
  context.fillRect(0, 0, ui.pad.width, ui.pad.height);
  strokes.forEach(paintStroke);
  ui.undo.disabled = strokes.length === 0;
  ui.clear.disabled = strokes.length === 0;
}

ui.pad.addEventListener('pointerdown', (event) => {
  if (event.pointerType === 'mouse' && event.button !== 0) return;
  event.preventDefault();
  ui.pad.setPointerCapture(event.pointerId);
  cancelScheduledRecognition();   // more strokes are coming: wait for them
  activeStroke = { pointerId: event.pointerId, width: Number(ui.penWidth.value), points: [padPoint(event)] };
  strokes.push(activeStroke);
  ui.padOverlay.classList.add('stale');
  paintStroke(activeStroke);
  ui.undo.disabled = false;
  ui.clear.disabled = false;
});

ui.pad.addEventListener('pointermove', (event) => {
  if (!activeStroke || event.pointerId !== activeStroke.pointerId) return;
  // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  const points = (events.length > 0 ? events : [event]).map(padPoint);
  const last = activeStroke.points[activeStroke.points.length - 1];
  activeStroke.points.push(...points);
  paintStroke({ width: activeStroke.width, points: [last, ...points] });
});

function endStroke(event) {
  if (!activeStroke || event.pointerId !== activeStroke.pointerId) return;
  activeStroke = null;
  scheduleRecognition(padSource);
}
ui.pad.addEventListener('pointerup', endStroke);
ui.pad.addEventListener('pointercancel', endStroke);

// After undo or clear: recognise what is left, or forget the drawing's result when nothing is.
function padChanged() {
  repaintPad();
  if (strokes.length > 0) {
    scheduleRecognition(padSource);
    return;
  }
  cancelScheduledRecognition();
  if (lastSource === padSource) {
    latestRequest++;              // an answer still on its way is for a drawing that is gone
    if (inflight) inflight.abort();
    lastSource = null;
    clearResult();
  }
  setBoxes(ui.padOverlay, []);
}

ui.undo.addEventListener('click', () => {
  strokes.pop();
  padChanged();
});

ui.clear.addEventListener('click', () => {
  strokes.length = 0;
  padChanged();
});

// Ctrl+Z (Cmd+Z) undoes a stroke, except where it means something to a text field.
document.addEventListener('keydown', (event) => {
  if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== 'z' || event.shiftKey) return;
  if (event.target.closest('input[type="text"], textarea, [contenteditable]')) return;
  if (strokes.length === 0) return;
  event.preventDefault();
  strokes.pop();
  padChanged();
});

ui.penWidth.addEventListener('input', () => {
  ui.penWidthValue.textContent = ui.penWidth.value;
});

// ---------------------------------------------------------------------------------------------
// Minimum probability: the server marks digits below it, so a change asks again.

ui.minProbability.addEventListener('input', () => {
  ui.minProbabilityValue.textContent = minProbability().toFixed(2);
  if (lastSource) scheduleRecognition(lastSource);
});

// ---------------------------------------------------------------------------------------------
// Footer: which model answers, and how well it did on its test set.

async function showModel() {
  try {
    const response = await fetch(MODEL_URL);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const model = await response.json();
    const parts = [`Model ${model.name}`];
    if (typeof model.test_accuracy === 'number') parts.push(`test accuracy ${(model.test_accuracy * 100).toFixed(2)}%`);
    if (typeof model.parameters === 'number') parts.push(`${model.parameters.toLocaleString('en')} parameters`);
    ui.model.textContent = parts.join(' · ');
    // The card gives the layers as a string or as {name, layers}: either way a tooltip.
    const architecture = model.architecture;
    const layers = typeof architecture === 'string' ? architecture : architecture?.layers;
    if (layers) ui.model.title = layers;
  } catch (error) {
    ui.model.textContent = `Model information unavailable (${error.message}).`;
  }
}

repaintPad();
ui.minProbabilityValue.textContent = minProbability().toFixed(2);
ui.penWidthValue.textContent = ui.penWidth.value;
showModel();
