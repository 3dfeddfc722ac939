// The labelling page: show the next image with the model's reading, save on Enter, repeat.
"use strict";

const $ = (id) => document.getElementById(id);

function show(item) {
  const status = $("label-status");
  if (item.done) {
    $("label-form").hidden = true;
    $("label-image").hidden = true;
    status.textContent = `All images are labelled (${item.labelled} in labels.csv).`;
    return;
  }
  $("label-file").textContent = item.file;
  $("label-image").src = `/v1/label/image/${encodeURIComponent(item.file)}`;
  const reading = $("label-reading");
  reading.replaceChildren(...item.chars.map((c) => {
    const span = document.createElement(c.unsure ? "mark" : "span");
    span.textContent = c.char;
    span.title = `p = ${c.p}`;
    if (c.unsure) span.className = "unsure";
    return span;
  }));
  $("label-confidence").textContent = item.confidence.toFixed(2);
  const input = $("label-input");
  input.value = item.text;
  input.dataset.file = item.file;
  input.focus();
  input.select();
  status.textContent = `${item.labelled} labelled, ${item.remaining} to go.`;
}

async function call(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

$("label-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("label-input");
  try {
    show(await call("/v1/label", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ file: input.dataset.file, label: input.value }),
    }));
  } catch (err) {
    $("label-status").textContent = `Not saved: ${err.message}`;
  }
});

call("/v1/label/next").then(show).catch((err) => {
  $("label-status").textContent = `Cannot load the next image: ${err.message}`;
});
