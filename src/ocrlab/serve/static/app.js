// The ocrlab page: a thin client of the JSON API (/v1/models, /v1/read, /v1/gallery).
// Plain JavaScript, no build step and nothing loaded from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const pct = (p) => `${(100 * p).toFixed(1)}%`;

async function api(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
  return body;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// One row per alternative: the text, a bar as long as its probability, the percentage.
function showBars(list, entries) {
  list.replaceChildren(
    ...entries.map(({ text, p }) => {
      const row = el("li");
      const bar = el("span", "bar");
      const fill = el("span", "fill");
      fill.style.width = pct(p);
      bar.append(fill);
      row.append(el("span", "label", text), bar, el("span", "value", pct(p)));
      return row;
    }),
  );
}

function readImage(
  blob, model, topK, debug, lines = false, charset = "", length = "", thorough = false, colour = true,
) {
  const form = new FormData();
  form.append("image", blob, "image");
  const query = new URLSearchParams({
    model, top_k: topK, debug: debug ? "1" : "0", lines: lines ? "1" : "0",
  });
  // What the text may be (line models): sent only when given, so other models read as before.
  if (charset.trim()) query.set("charset", charset.trim());
  if (length.trim()) query.set("length", length.trim());
  if (thorough) query.set("thorough", "1");
  if (!colour) query.set("colour", "0");
  return api(`/v1/read?${query}`, { method: "POST", body: form });
}

// ---- models -----------------------------------------------------------------------------

// Hints (characters, length, thorough, colour) are for line models: off for any other kind.
const modelKinds = new Map();

function syncHints() {
  const off = modelKinds.get($("read-model").value) !== "line";
  for (const id of ["read-charset", "read-length", "read-thorough", "read-colour"]) {
    $(id).disabled = off;
    if (off) $(id).title = "only a line model (such as general) can be told the format";
    else $(id).removeAttribute("title");
  }
}

async function loadModels() {
  const { models } = await api("/v1/models");
  for (const m of models) modelKinds.set(m.name, m.kind);
  for (const select of document.querySelectorAll(".model-select")) {
    select.replaceChildren(
      ...models.map((m) => {
        const option = el("option", "", `${m.name} (${m.kind}, ${m.classes} classes)`);
        option.value = m.name;
        return option;
      }),
    );
  }
  const letters = models.find((m) => m.kind === "letters");
  if (letters) $("draw-model").value = letters.name;
  syncHints();
}

// ---- read an image ----------------------------------------------------------------------

async function readFile(blob) {
  const preview = $("preview");
  URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(blob);
  preview.alt = "the image being read";
  preview.hidden = false;
  $("read-status").textContent = "Reading…";
  try {
    const r = await readImage(
      blob, $("read-model").value, $("read-topk").value, true, $("read-lines").checked,
      $("read-charset").disabled ? "" : $("read-charset").value,
      $("read-length").disabled ? "" : $("read-length").value,
      !$("read-thorough").disabled && $("read-thorough").checked,
      $("read-colour").disabled || $("read-colour").checked,
    );
    showReading(r);
    $("read-status").textContent = "";
  } catch (error) {
    $("reading").hidden = true;
    $("read-status").textContent = `Could not read the image: ${error.message}`;
  }
}

function showReading(r) {
  $("reading-text").textContent = r.text;
  $("reading-confidence").textContent = `${pct(r.confidence)} confident (${r.model})`;
  showBars($("reading-topk"), r.topk);
  $("chars-block").hidden = r.chars.length === 0;
  $("reading-chars").replaceChildren(
    ...r.chars.map(({ char, p }) => {
      const item = el("li", "", char);
      item.append(el("small", "", pct(p)));
      item.title = `${char}: ${pct(p)}`;
      return item;
    }),
  );
  $("stages").replaceChildren(
    ...r.stages.map((s) => {
      const figure = el("figure");
      const img = el("img");
      img.src = `data:image/png;base64,${s.png}`;
      img.alt = `${s.name} stage, ${s.width}×${s.height} pixels`;
      img.width = s.width;
      img.height = s.height;
      figure.append(img, el("figcaption", "", `${s.name} · ${s.width}×${s.height}`));
      return figure;
    }),
  );
  const t = r.timings;
  $("timings").textContent =
    `decode ${t.decode_ms.toFixed(1)} ms · preprocess ${t.preprocess_ms.toFixed(1)} ms · ` +
    `inference ${t.inference_ms.toFixed(1)} ms · total ${t.total_ms.toFixed(1)} ms`;
  $("reading").hidden = false;
}

function setUpUpload() {
  const drop = $("drop");
  $("read-model").addEventListener("change", syncHints);
  $("file").addEventListener("change", (event) => {
    if (event.target.files.length) readFile(event.target.files[0]);
  });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = Array.from(event.dataTransfer.files).find((f) => f.type.startsWith("image/"));
    if (file) readFile(file);
  });
  document.addEventListener("paste", (event) => {
    const item = Array.from(event.clipboardData.items).find((i) => i.type.startsWith("image/"));
    if (item) readFile(item.getAsFile());
  });
}

// ---- draw a letter ----------------------------------------------------------------------

function setUpCanvas() {
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    $("draw-topk").replaceChildren();
    $("draw-status").textContent = "";
  };
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  };
  let drawing = false;
  // Pointer events cover mouse, pen and touch; `touch-action: none` keeps touches from scrolling.
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x, y); // a click leaves a dot
    ctx.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    ctx.lineTo(...point(event));
    ctx.stroke();
  });
  const stop = () => {
    drawing = false;
  };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#111";
  clear();
  $("draw-clear").addEventListener("click", clear);
  $("draw-read").addEventListener("click", () => {
    $("draw-status").textContent = "Reading…";
    canvas.toBlob(async (blob) => {
      try {
        const r = await readImage(blob, $("draw-model").value, 5, false);
        $("draw-status").textContent = `Top 5 for the drawing (${r.model}):`;
        showBars($("draw-topk"), r.topk);
      } catch (error) {
        $("draw-topk").replaceChildren();
        $("draw-status").textContent = `Could not read the drawing: ${error.message}`;
      }
    }, "image/png");
  });
}

// ---- gallery ----------------------------------------------------------------------------

let gallerySeed = 0;

async function loadGallery() {
  try {
    const { items } = await api(`/v1/gallery?n=12&seed=${gallerySeed}`);
    $("gallery").replaceChildren(
      ...items.map(({ label, png }) => {
        const item = el("li");
        const img = el("img");
        img.src = `data:image/png;base64,${png}`;
        img.alt = `generated sample showing “${label}”`;
        item.append(img, el("span", "", label));
        return item;
      }),
    );
    $("gallery-status").textContent = "";
  } catch (error) {
    $("gallery-more").hidden = true;
    $("gallery-status").textContent = error.message;
  }
}

async function main() {
  setUpUpload();
  setUpCanvas();
  $("gallery-more").addEventListener("click", () => {
    gallerySeed += 1;
    loadGallery();
  });
  try {
    await loadModels();
  } catch (error) {
    $("read-status").textContent = `Could not list the models: ${error.message}`;
  }
  await loadGallery();
}

main();
