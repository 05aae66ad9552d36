// qkv attention explorer. Reads the JSON in <script id="qkv-data"> (written by
// app/export/html_explorer.cpp) and draws, for a chosen sentence, attention type, layer and
// head: a head view (lines from each query token to the key tokens it attends to), a heatmap
// (rows = queries, columns = keys) and a step-by-step explainer that recomputes one query's
// attention from the recorded q, k, v vectors. Optional: the training timeline of probe
// sentences (RUN/attention/). Open the page with #selftest to run every view and check
// every recomputation against the recorded numbers (used by the tests).
'use strict';
(function () {
  const DATA = JSON.parse(document.getElementById('qkv-data').textContent);
  const app = document.getElementById('app');
  const errors = [];
  window.addEventListener('error', (event) => {
    errors.push(String(event.message));
    document.body.dataset.errors = String(errors.length);
  });

  const TYPES = [
    {id: 'encoder_self', label: 'Encoder self-attention', stack: 'encoder'},
    {id: 'decoder_self', label: 'Decoder masked self-attention', stack: 'decoder'},
    {id: 'cross', label: 'Cross-attention', stack: 'decoder'},
  ];
  const HEAD_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
    '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39',
    '#7b4173', '#3182bd'];
  // ColorBrewer "Blues", as in the PNG heatmaps (app/export/heatmap_png.cpp).
  const BLUES = [[247, 251, 255], [222, 235, 247], [198, 219, 239], [158, 202, 225],
    [107, 174, 214], [66, 146, 198], [33, 113, 181], [8, 81, 156], [8, 48, 107]];

  // ---------- small helpers ----------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  function svgEl(tag, attrs, text) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function blue(value) {
    const x = Math.min(1, Math.max(0, value)) * (BLUES.length - 1);
    const i = Math.min(Math.floor(x), BLUES.length - 2);
    const t = x - i;
    const c = BLUES[i].map((a, k) => Math.round(a + t * (BLUES[i + 1][k] - a)));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }
  // Diverging colour for vector components: blue negative, white 0, red positive.
  function diverging(value, scale) {
    const t = Math.max(-1, Math.min(1, value / (scale || 1)));
    const a = Math.round(255 * (1 - Math.abs(t)));
    return t >= 0 ? `rgb(255,${a},${a})` : `rgb(${a},${a},255)`;
  }
  function fmt(value, digits = 4) {
    if (value === -Infinity) return '−∞';
    return value.toFixed(digits).replace('-', '−');
  }
  function decodeFloats(base64) {  // little-endian float32, as written by html_explorer.cpp
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; ++i) bytes[i] = binary.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }
  // Token labels with SentencePiece's word-start mark "▁" in light grey (as in the PNGs).
  const MARK = '\u2581';
  function tokenLabel(text) {
    const span = el('span');
    text.split(MARK).forEach((part, n) => {
      if (n) span.append(el('span', {class: 'mark', text: MARK}));
      if (part) span.append(part);
    });
    return span;
  }
  function svgTokenLabel(node, text) {
    text.split(MARK).forEach((part, n) => {
      if (n) node.append(svgEl('tspan', {class: 'mark'}, MARK));
      if (part) node.append(document.createTextNode(part));
    });
    return node;
  }
  const measureContext = document.createElement('canvas').getContext('2d');
  function textWidth(text, font) {
    measureContext.font = font;
    return measureContext.measureText(text).width;
  }

  // ---------- data access ----------
  function siteName(type, layer) {
    return type === 'encoder_self' ? `encoder.${layer}.self_attn`
      : type === 'decoder_self' ? `decoder.${layer}.self_attn` : `decoder.${layer}.cross_attn`;
  }
  // The site with its arrays decoded (once): W [H,Tq,Tk], Q/O [H,Tq,Dh], K/V [H,Tk,Dh].
  function site(sentence, type, layer) {
    const s = sentence.sites.find((x) => x.site === siteName(type, layer));
    if (!s.W) {
      s.W = decodeFloats(s.weights);
      s.Q = decodeFloats(s.query);
      s.K = decodeFloats(s.key);
      s.V = decodeFloats(s.value);
      s.O = decodeFloats(s.output);
      [s.H, s.Tq, s.Tk] = s.shape;
      s.Dh = s.Q.length / (s.H * s.Tq);
    }
    return s;
  }
  // Weights of one head, or their mean over heads: Float32Array [Tq * Tk].
  function headWeights(s, head) {
    const n = s.Tq * s.Tk;
    if (head !== 'mean') return s.W.subarray(head * n, (head + 1) * n);
    const out = new Float32Array(n);
    for (let h = 0; h < s.H; ++h) for (let x = 0; x < n; ++x) out[x] += s.W[h * n + x] / s.H;
    return out;
  }
  function queryTokens(sentence, type) {
    if (type === 'encoder_self') return sentence.source.tokens;
    return sentence.target.tokens.map((t, i) => `${t} → ${sentence.target.predicted_tokens[i]}`);
  }
  function keyTokens(sentence, type) {
    return type === 'decoder_self' ? sentence.target.tokens : sentence.source.tokens;
  }
  function isMasked(type, i, j) { return type === 'decoder_self' && j > i; }
  function layerCount(sentence, type) {
    return type === 'encoder_self' ? sentence.model.encoder_layers : sentence.model.decoder_layers;
  }

  // ---------- the maths of one query, recomputed from the recorded vectors ----------
  // softmax(q k_j / sqrt(d_head)) over keys j (masked keys get -inf), then sum_j w_j v_j.
  function explain(s, type, head, i) {
    const Dh = s.Dh;
    const q = s.Q.subarray((head * s.Tq + i) * Dh, (head * s.Tq + i + 1) * Dh);
    const rows = [];
    let best = -Infinity;
    for (let j = 0; j < s.Tk; ++j) {
      const k = s.K.subarray((head * s.Tk + j) * Dh, (head * s.Tk + j + 1) * Dh);
      let dot = 0;
      for (let d = 0; d < Dh; ++d) dot += q[d] * k[d];
      const masked = isMasked(type, i, j);
      const score = masked ? -Infinity : dot / Math.sqrt(Dh);
      best = Math.max(best, score);
      rows.push({j, k, dot, score, masked});
    }
    let total = 0;
    for (const r of rows) { r.exp = r.masked ? 0 : Math.exp(r.score - best); total += r.exp; }
    const out = new Float64Array(Dh);
    let weightError = 0;
    for (const r of rows) {
      r.weight = r.exp / total;
      r.recorded = s.W[(head * s.Tq + i) * s.Tk + r.j];
      weightError = Math.max(weightError, Math.abs(r.weight - r.recorded));
      r.v = s.V.subarray((head * s.Tk + r.j) * Dh, (head * s.Tk + r.j + 1) * Dh);
      for (let d = 0; d < Dh; ++d) out[d] += r.weight * r.v[d];
    }
    const recordedOut = s.O.subarray((head * s.Tq + i) * Dh, (head * s.Tq + i + 1) * Dh);
    let outputError = 0;
    for (let d = 0; d < Dh; ++d) {
      outputError = Math.max(outputError, Math.abs(out[d] - recordedOut[d]) / (1 + Math.abs(recordedOut[d])));
    }
    return {q, rows, best, total, out, recordedOut, weightError, outputError};
  }

  // ---------- state ----------
  const first = DATA.sentences[0];
  const state = {
    sentence: 0, type: 'cross', layer: first.model.decoder_layers - 1, head: 0, query: 0,
    hoverQuery: null, hoverKey: null,
  };
  const timeline = DATA.timeline || [];
  const tl = {probe: 0, index: Math.max(0, timeline.length - 1), layer: 0, head: 'mean'};
  if (timeline.length) tl.layer = timeline[tl.index].probes[0].cross_attn.length - 1;

  // ---------- heads switched off ----------
  // Each sentence records the heads its maps were recorded with switched off (heads_off: site ->
  // heads, from `qkv attention --heads-off` or qkv serve's heads_off; absent when all were on):
  // their recorded outputs are zeros on purpose. Inside qkv serve's live page, the page
  // (serve/page/page.html) also posts {qkv: 'heads-off', spec, view} once this explorer has
  // loaded: the same heads, and the view to restore; then the explorer also offers to switch
  // the shown head off or on. Opened on its own, no message comes.
  let headsOff = null;  // site name -> Set of heads, once the page has said
  function headIsOff(siteName, head) {
    if (head === 'mean') return false;
    const recorded = (DATA.sentences[state.sentence].heads_off || {})[siteName] || [];
    return recorded.includes(head) || (headsOff !== null && headsOff.has(siteName) && headsOff.get(siteName).has(head));
  }
  function toPage(message) { window.parent.postMessage(message, '*'); }  // sandboxed: no origin to name
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (window.parent === window || event.source !== window.parent || !m || m.qkv !== 'heads-off') return;
    headsOff = new Map();
    for (const part of String(m.spec).split(';').filter(Boolean)) {
      const [name, heads] = part.split(':');
      headsOff.set(name, new Set(heads.split(',').map(Number)));
    }
    const v = m.view;
    const types = TYPES.map((t) => t.id);
    if (v && types.includes(v.type) && v.layer >= 0 && v.layer < layerCount(DATA.sentences[state.sentence], v.type) &&
        (v.head === 'mean' || (v.head >= 0 && v.head < DATA.sentences[state.sentence].model.num_heads))) {
      Object.assign(state, {type: v.type, layer: v.layer, head: v.head, query: Math.max(0, v.query | 0)});
    }
    document.body.dataset.headsOff = String(m.spec);
    render();
  });

  // ---------- layout ----------
  const controls = el('section', {class: 'controls', id: 'controls'});
  const sentenceText = el('div', {class: 'sentence-text', id: 'sentence-text'});
  const origin = el('p', {class: 'origin', id: 'origin'});
  const headView = el('section', {id: 'headview'});
  const heatmap = el('section', {id: 'heatmap'});
  const explainer = el('section', {class: 'explainer', id: 'explainer'});
  const timelineSection = el('section', {class: 'timeline', id: 'timeline'});
  app.append(el('div', {}, controls, sentenceText), origin, el('div', {class: 'views'}, headView, heatmap),
      explainer);
  if (timeline.length) app.append(timelineSection);

  function option(value, label, selected) {
    const o = el('option', {value: String(value), text: label});
    if (selected) o.selected = true;
    return o;
  }
  function renderControls() {
    const sentence = DATA.sentences[state.sentence];
    controls.replaceChildren();
    if (DATA.sentences.length > 1) {
      const pick = el('select', {id: 'sentence', onchange: (e) => { state.sentence = +e.target.value; state.query = 0; render(); }});
      DATA.sentences.forEach((s, i) => pick.append(option(i, `${i}: ${s.source.text}`, i === state.sentence)));
      controls.append(el('span', {}, el('label', {text: 'Sentence'}), pick));
    }
    const types = el('span', {class: 'types', id: 'types'});
    for (const t of TYPES) {
      types.append(el('button', {class: t.id === state.type ? 'active' : '', 'data-type': t.id, text: t.label,
        onclick: () => {
          state.type = t.id;
          state.layer = Math.min(state.layer, layerCount(sentence, t.id) - 1);
          state.query = 0;
          render();
        }}));
    }
    controls.append(types);
    const layer = el('select', {id: 'layer', onchange: (e) => { state.layer = +e.target.value; render(); }});
    for (let l = 0; l < layerCount(sentence, state.type); ++l) layer.append(option(l, `layer ${l}`, l === state.layer));
    const head = el('select', {id: 'head', onchange: (e) => { state.head = e.target.value === 'mean' ? 'mean' : +e.target.value; render(); }});
    const shownSite = siteName(state.type, state.layer);
    for (let h = 0; h < sentence.model.num_heads; ++h) {
      head.append(option(h, headIsOff(shownSite, h) ? `head ${h} (switched off)` : `head ${h}`, h === state.head));
    }
    head.append(option('mean', `mean of ${sentence.model.num_heads} heads`, state.head === 'mean'));
    controls.append(el('span', {}, el('label', {text: 'Layer'}), layer), el('span', {}, el('label', {text: 'Head'}), head));
    if (headsOff !== null && state.head !== 'mean') {
      const isOff = headIsOff(shownSite, state.head);
      controls.append(el('button', {id: 'head-switch', class: isOff ? 'head-switch off' : 'head-switch',
        text: isOff ? `Switch head ${state.head} back on` : `Switch head ${state.head} off`,
        onclick: () => toPage({qkv: 'toggle-head', site: shownSite, head: state.head})}));
    }
    sentenceText.replaceChildren(el('b', {text: 'source: '}), sentence.source.text, '   ',
        el('b', {text: sentence.target.forced ? 'target (given, teacher-forced): ' : 'target (model translation): '}),
        sentence.target.text);
  }

  function renderOrigin(sentence, s) {
    const type = TYPES.find((t) => t.id === state.type);
    const rows = state.type === 'encoder_self' ? 'source positions' : 'decoder positions (token fed → token predicted)';
    const cols = state.type === 'decoder_self' ? 'decoder positions (token fed)' : 'source tokens';
    origin.replaceChildren(el('b', {text: `${type.label}, ${type.stack} layer ${state.layer} (${s.site}). `}),
        s.qkv_origin,
        el('span', {class: 'axes', text: `Rows = queries: ${rows}. Columns = keys: ${cols}. ` +
            `d_model = ${sentence.model.d_model}, ${sentence.model.num_heads} heads, d_head = ${s.Dh}.` +
            (state.type === 'decoder_self' ? ' Causal mask: a query never sees later positions.' : '')}),
        headIsOff(s.site, state.head) ? el('span', {class: 'axes head-off', id: 'head-off-note',
          text: `Head ${state.head} is switched off: the model zeroes its output before output_proj, so nothing ` +
            'it computes reaches the translation; the map shows where it still looks.'}) : null);
  }

  // ---------- head view (bertviz style) ----------
  function drawHeadView(container, qLabels, kLabels, weights, Tk, opts) {
    const font = '13px "DejaVu Sans", sans-serif';
    const leftWidth = Math.max(60, ...qLabels.map((t) => textWidth(t, font))) + 12;
    const rightWidth = Math.max(60, ...kLabels.map((t) => textWidth(t, font))) + 72;
    const gap = 170, rowHeight = 21, top = 26;
    const height = top + Math.max(qLabels.length, kLabels.length) * rowHeight + 6;
    const svg = svgEl('svg', {class: 'headview', width: leftWidth + gap + rightWidth, height});
    svg.append(svgEl('text', {x: leftWidth - 6, y: 14, 'text-anchor': 'end', class: 'column-title'}, 'queries'),
        svgEl('text', {x: leftWidth + gap + 6, y: 14, class: 'column-title'}, 'keys'));
    const lines = svgEl('g', {});
    const leftRects = [], rightRects = [], weightTexts = [];
    const y = (i) => top + i * rowHeight + rowHeight / 2;
    qLabels.forEach((label, i) => {
      const rect = svgEl('rect', {x: 0, y: y(i) - rowHeight / 2 + 1, width: leftWidth - 2, height: rowHeight - 2, fill: 'transparent'});
      const text = svgTokenLabel(svgEl('text', {x: leftWidth - 6, y: y(i) + 4, 'text-anchor': 'end', 'data-query': i,
        class: i === opts.selected ? 'selected' : ''}), label);
      for (const node of [rect, text]) {
        node.addEventListener('mouseenter', () => opts.hover(i, null));
        node.addEventListener('mouseleave', () => opts.hover(null, null));
        node.addEventListener('click', () => opts.select(i));
      }
      leftRects.push(rect);
      svg.append(rect, text);
    });
    kLabels.forEach((label, j) => {
      const rect = svgEl('rect', {x: leftWidth + gap, y: y(j) - rowHeight / 2 + 1, width: rightWidth - 50, height: rowHeight - 2, fill: 'transparent'});
      const text = svgTokenLabel(svgEl('text', {x: leftWidth + gap + 6, y: y(j) + 4, 'data-key': j}), label);
      const weight = svgEl('text', {class: 'weight', x: leftWidth + gap + rightWidth - 50, y: y(j) + 4}, '');
      for (const node of [rect, text]) {
        node.addEventListener('mouseenter', () => opts.hover(null, j));
        node.addEventListener('mouseleave', () => opts.hover(null, null));
      }
      rightRects.push(rect);
      weightTexts.push(weight);
      svg.append(rect, text, weight);
    });
    svg.append(lines);
    // Lines from query i to key j with opacity = weight; while hovering a token, only its lines.
    function update(hoverQuery, hoverKey) {
      lines.replaceChildren();
      leftRects.forEach((r, i) => r.setAttribute('class', i === hoverQuery ? 'hover' : ''));
      rightRects.forEach((r, j) => r.setAttribute('class', j === hoverKey ? 'hover' : ''));
      const shown = hoverQuery !== null ? hoverQuery : opts.selected;
      weightTexts.forEach((t, j) => { t.textContent = hoverKey === null ? weights[shown * Tk + j].toFixed(3) : ''; });
      for (let i = 0; i < qLabels.length; ++i) {
        if (hoverQuery !== null && i !== hoverQuery) continue;
        for (let j = 0; j < kLabels.length; ++j) {
          if (hoverKey !== null && j !== hoverKey) continue;
          const w = weights[i * Tk + j];
          if (w < 0.01) continue;
          lines.append(svgEl('line', {x1: leftWidth, y1: y(i), x2: leftWidth + gap, y2: y(j),
            stroke: opts.colour, 'stroke-width': 2, 'stroke-opacity': w.toFixed(3)}));
        }
      }
    }
    update(null, null);
    container.append(svg);
    return update;
  }

  // ---------- heatmap table ----------
  function drawHeatmap(container, qLabels, kLabels, weights, masked, opts) {
    const Tq = qLabels.length, Tk = kLabels.length;
    const side = Math.max(14, Math.min(30, Math.floor(560 / Math.max(Tq, Tk))));
    const table = el('table', {class: 'heatmap'});
    const head = el('tr', {}, el('th', {class: 'corner', text: 'queries ↓  keys →'}));
    const colHeads = kLabels.map((label) => el('th', {class: 'col'}, el('div', {}, tokenLabel(label))));
    head.append(...colHeads);
    table.append(el('thead', {}, head));
    const body = el('tbody');
    const rowHeads = [], rows = [];
    for (let i = 0; i < Tq; ++i) {
      const th = el('th', {class: 'row', onclick: () => opts.select(i),
        onmouseenter: () => opts.hover(i, null), onmouseleave: () => opts.hover(null, null)}, tokenLabel(qLabels[i]));
      const tr = el('tr', {class: i === opts.selected ? 'selected' : ''}, th);
      for (let j = 0; j < Tk; ++j) {
        const w = weights[i * Tk + j];
        const td = el('td', {style: `width:${side}px;height:${side}px;background:${blue(w)}`,
          title: masked(i, j) ? `query ${i} “${qLabels[i]}” → key ${j} “${kLabels[j]}”: masked (future position), weight 0`
            : `query ${i} “${qLabels[i]}” → key ${j} “${kLabels[j]}”: ${w.toFixed(4)}`});
        if (masked(i, j)) td.className = 'masked';
        else if (side >= 26) {
          td.textContent = w >= 0.995 ? '1' : w.toFixed(2).slice(1);
          td.style.color = w > 0.5 ? '#fff' : '#333';
        }
        td.addEventListener('mouseenter', () => opts.hover(i, j));
        td.addEventListener('mouseleave', () => opts.hover(null, null));
        td.addEventListener('click', () => opts.select(i));
        tr.append(td);
      }
      rowHeads.push(th);
      rows.push(tr);
      body.append(tr);
    }
    table.append(body);
    container.append(table);
    const bar = el('div', {class: 'bar', style: `background:linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(blue).join(',')})`});
    let anyMasked = false;
    for (let i = 0; i < Tq; ++i) for (let j = 0; j < Tk; ++j) anyMasked = anyMasked || masked(i, j);
    container.append(el('div', {class: 'scale'}, '0', bar, '1  (each row sums to 1)',
        anyMasked ? el('span', {class: 'masked-swatch'}) : null, anyMasked ? 'masked (future)' : null));
    return function update(hoverQuery, hoverKey) {
      rowHeads.forEach((th, i) => th.classList.toggle('hl', i === hoverQuery));
      colHeads.forEach((th, j) => th.classList.toggle('hl', j === hoverKey));
      rows.forEach((tr, i) => {
        for (let j = 0; j < Tk; ++j) tr.children[j + 1].classList.toggle('hl', i === hoverQuery && j === hoverKey);
      });
    };
  }

  // ---------- explainer ----------
  function vectorView(values, full) {
    let scale = 0;
    for (const v of values) scale = Math.max(scale, Math.abs(v));
    if (full) {
      const box = el('div', {class: 'vector'});
      values.forEach((v, d) => box.append(el('span', {title: `dimension ${d}`, text: fmt(v, 3),
        style: `background:${diverging(v, scale)};color:${Math.abs(v) > 0.6 * scale ? '#fff' : 'inherit'}`})));
      return box;
    }
    const strip = el('span', {class: 'strip', title: Array.from(values, (v) => v.toFixed(4)).join(', ')});
    for (const v of values) strip.append(el('span', {style: `background:${diverging(v, scale)}`}));
    const head = Array.from(values.slice(0, 3), (v) => fmt(v, 2)).join(', ');
    return el('span', {}, strip, el('span', {class: 'strip-text', text: `[${head}, …]`}));
  }
  function renderExplainer(sentence, s) {
    explainer.replaceChildren();
    const head = state.head === 'mean' ? 0 : state.head;
    const i = Math.min(state.query, s.Tq - 1);
    const qLabels = queryTokens(sentence, state.type), kLabels = keyTokens(sentence, state.type);
    const ex = explain(s, state.type, head, i);
    explainer.append(el('h2', {text: `Step by step: query ${i} “${qLabels[i]}”, head ${head} of ${s.site}`}));
    if (state.head === 'mean') {
      explainer.append(el('p', {class: 'hint', text: 'The mean of heads is not computed by the model: this explainer shows head 0. Pick a head above.'}));
    }
    explainer.append(el('p', {class: 'hint', text: 'Click a query token (head view) or a heatmap row to explain another query.'}));
    explainer.append(el('h3', {text: '0. Where Q, K and V come from'}),
        el('p', {text: s.qkv_origin}),
        el('div', {class: 'formula', text: `q = x·W_Q + b_Q,  k = m·W_K + b_K,  v = m·W_V + b_V   (x: query stream, m: key/value stream; each head takes its own ${s.Dh} of the ${sentence.model.d_model} columns)`}));
    explainer.append(el('h3', {text: `1. The query vector q of “${qLabels[i]}” (d_head = ${s.Dh} numbers)`}),
        vectorView(ex.q, true));
    explainer.append(el('h3', {text: `2. Compare q with every key: dot product, scale by 1/√${s.Dh} = ${(1 / Math.sqrt(s.Dh)).toFixed(4)}, mask, softmax`}));
    const table = el('table', {},
        el('tr', {}, ...['j', 'key token', `key vector k_j (${s.Dh})`, 'q·k_j', `score = q·k_j / √${s.Dh}`, 'mask',
          'exp(score − max)', 'softmax weight', 'recorded weight'].map((h, n) => el('th', {class: n === 1 ? 'token' : '', text: h}))));
    const top = ex.rows.filter((r) => !r.masked).reduce((a, b) => (b.weight > a.weight ? b : a));
    for (const r of ex.rows) {
      table.append(el('tr', {class: r.masked ? 'masked' : r === top ? 'top' : ''},
          el('td', {class: 'num', text: String(r.j)}),
          el('td', {class: 'token'}, tokenLabel(kLabels[r.j])),
          el('td', {}, vectorView(r.k, false)),
          el('td', {class: 'num', text: fmt(r.dot)}),
          el('td', {class: 'num', text: fmt(r.score)}),
          el('td', {text: r.masked ? 'future: −∞' : 'kept'}),
          el('td', {class: 'num', text: fmt(r.exp)}),
          el('td', {class: 'num', text: fmt(r.weight)}),
          el('td', {class: 'num', text: fmt(r.recorded)})));
    }
    explainer.append(table, el('p', {class: `check ${ex.weightError < 1e-5 ? '' : 'bad'}`,
      text: `softmax: weight_j = exp(score_j − max) / Σ exp(score − max), with max = ${fmt(ex.best)} and Σ = ${fmt(ex.total)} ` +
        `(subtracting the max changes nothing but avoids overflow). Largest difference to the weights the model recorded: ${ex.weightError.toExponential(1)}.`}));
    explainer.append(el('h3', {text: '3. Weighted sum of the value vectors = this head\'s output'}));
    const values = el('table', {}, el('tr', {}, ...['j', 'key token', 'weight', `value vector v_j (${s.Dh})`].map((h, n) => el('th', {class: n === 1 ? 'token' : '', text: h}))));
    for (const r of [...ex.rows].filter((x) => !x.masked).sort((a, b) => b.weight - a.weight)) {
      values.append(el('tr', {class: r === top ? 'top' : ''}, el('td', {class: 'num', text: String(r.j)}),
          el('td', {class: 'token'}, tokenLabel(kLabels[r.j])), el('td', {class: 'num', text: fmt(r.weight)}), el('td', {}, vectorView(r.v, false))));
    }
    explainer.append(values, el('p', {text: 'output = Σ_j weight_j · v_j:'}), vectorView(ex.out, true),
        headIsOff(s.site, head)
          ? el('p', {class: 'check off', text: 'This head is switched off: the model zeroes its output before output_proj, so its recorded output is all zeros; the sum above is what it would have added.'})
          : el('p', {class: `check ${ex.outputError < 1e-4 ? '' : 'bad'}`, text: `Recorded head output (model/attention.cpp, head_outputs): largest difference ${ex.outputError.toExponential(1)}.`}),
        vectorView(ex.recordedOut, true));
    explainer.append(el('h3', {text: '4. After the heads'}),
        el('p', {text: `The ${sentence.model.num_heads} head outputs (${s.Dh} numbers each) are concatenated into ${sentence.model.d_model} numbers ` +
          '(merge_heads) and multiplied by output_proj (W_O); the result is added to the residual stream ' +
          '(MultiHeadAttentionImpl::attend in model/attention.cpp).'}));
  }

  // ---------- main view ----------
  let updateHeadView = () => {}, updateHeatmap = () => {};
  function hover(hoverQuery, hoverKey) {
    state.hoverQuery = hoverQuery;
    state.hoverKey = hoverKey;
    updateHeadView(hoverQuery, hoverQuery !== null ? null : hoverKey);
    updateHeatmap(hoverQuery, hoverKey);
  }
  function select(i) { state.query = i; render(); }
  function render() {
    const sentence = DATA.sentences[state.sentence];
    const s = site(sentence, state.type, state.layer);
    state.query = Math.min(state.query, s.Tq - 1);
    renderControls();
    renderOrigin(sentence, s);
    const qLabels = queryTokens(sentence, state.type), kLabels = keyTokens(sentence, state.type);
    const weights = headWeights(s, state.head);
    const colour = state.head === 'mean' ? '#444' : HEAD_COLOURS[state.head % HEAD_COLOURS.length];
    headView.replaceChildren(el('h2', {text: 'Who attends to whom'}));
    updateHeadView = drawHeadView(headView, qLabels, kLabels, weights, s.Tk,
        {colour, selected: state.query, hover, select});
    headView.append(el('p', {class: 'hint', text: 'Line opacity = attention weight. Hover a query (left) to see what it attends to, a key (right) to see who attends to it; click a query to explain it.'}));
    heatmap.replaceChildren(el('h2', {text: 'Heatmap: rows = queries, columns = keys'}));
    updateHeatmap = drawHeatmap(heatmap, qLabels, kLabels, weights, (i, j) => isMasked(state.type, i, j),
        {selected: state.query, hover, select});
    renderExplainer(sentence, s);
    // Inside the page: the view to restore when the page reloads the explorer with other heads off.
    if (headsOff !== null) toPage({qkv: 'view', view: {type: state.type, layer: state.layer, head: state.head, query: state.query}});
  }

  // ---------- training timeline (probe sentences, RUN/attention/) ----------
  function renderTimeline() {
    const snapshot = timeline[tl.index];
    tl.probe = Math.min(tl.probe, snapshot.probes.length - 1);
    const probe = snapshot.probes[tl.probe];
    tl.layer = Math.min(tl.layer, probe.cross_attn.length - 1);
    const heads = probe.cross_attn[tl.layer].length;
    if (tl.head !== 'mean') tl.head = Math.min(tl.head, heads - 1);
    timelineSection.replaceChildren(el('h2', {text: 'Training timeline: cross-attention of probe sentences at each validation'}));
    const probePick = el('select', {id: 'timeline-probe', onchange: (e) => { tl.probe = +e.target.value; renderTimeline(); }});
    snapshot.probes.forEach((p, n) => probePick.append(option(n, p.source, n === tl.probe)));
    const slider = el('input', {type: 'range', id: 'timeline-step', min: 0, max: timeline.length - 1, value: tl.index,
      oninput: (e) => { tl.index = +e.target.value; renderTimeline(); }});
    const layerPick = el('select', {id: 'timeline-layer', onchange: (e) => { tl.layer = +e.target.value; renderTimeline(); }});
    probe.cross_attn.forEach((_, l) => layerPick.append(option(l, `decoder layer ${l}`, l === tl.layer)));
    const headPick = el('select', {id: 'timeline-head', onchange: (e) => { tl.head = e.target.value === 'mean' ? 'mean' : +e.target.value; renderTimeline(); }});
    for (let h = 0; h < heads; ++h) headPick.append(option(h, `head ${h}`, h === tl.head));
    headPick.append(option('mean', `mean of ${heads} heads`, tl.head === 'mean'));
    timelineSection.append(el('div', {class: 'controls'},
        el('span', {}, el('label', {text: 'Probe'}), probePick),
        el('span', {}, el('label', {text: 'Step'}), slider, ' ', el('span', {class: 'step-label', text: `step ${snapshot.step} (${tl.index + 1} of ${timeline.length})`})),
        el('span', {}, el('label', {text: 'Layer'}), layerPick), el('span', {}, el('label', {text: 'Head'}), headPick)));
    timelineSection.append(el('p', {}, el('b', {text: 'translation at this step: '}), probe.translation));
    const weights = probeWeights(probe);
    const qLabels = probe.target_tokens.map((t, i) => `${t} → ${probe.predicted_tokens[i]}`);
    drawHeatmap(timelineSection, qLabels, probe.source_tokens, weights, () => false, {selected: -1, hover: () => {}, select: () => {}});
    // Every step at once, small: how the alignment forms. Click one to select it.
    const strip = el('div', {class: 'filmstrip', id: 'timeline-filmstrip'});
    timeline.forEach((snap, index) => {
      const p = snap.probes[Math.min(tl.probe, snap.probes.length - 1)];
      const Tq = p.target_tokens.length, Tk = p.source_tokens.length;
      const side = Math.max(3, Math.floor(110 / Math.max(Tq, Tk)));
      const canvas = el('canvas', {width: Tk * side, height: Tq * side});
      const context = canvas.getContext('2d');
      const w = probeWeights(p);
      for (let i = 0; i < Tq; ++i) {
        for (let j = 0; j < Tk; ++j) {
          context.fillStyle = blue(w[i * Tk + j]);
          context.fillRect(j * side, i * side, side, side);
        }
      }
      strip.append(el('figure', {class: index === tl.index ? 'current' : '', title: p.translation,
        onclick: () => { tl.index = index; renderTimeline(); }}, canvas, el('figcaption', {text: `step ${snap.step}`})));
    });
    timelineSection.append(el('h3', {text: 'All validations (rows = queries, columns = keys; click one)'}), strip);
  }
  // Cross-attention of one probe at tl.layer, one head or the mean of heads: Float32Array [Tq * Tk].
  function probeWeights(probe) {
    const maps = probe.cross_attn[Math.min(tl.layer, probe.cross_attn.length - 1)];
    const Tq = probe.target_tokens.length, Tk = probe.source_tokens.length;
    const weights = new Float32Array(Tq * Tk);
    maps.forEach((m, h) => {
      if (tl.head !== 'mean' && h !== tl.head) return;
      const share = tl.head === 'mean' ? 1 / maps.length : 1;
      m.forEach((row, i) => row.forEach((w, j) => { weights[i * Tk + j] += w * share; }));
    });
    return weights;
  }

  // ---------- self-test (#selftest): every view, every recomputation ----------
  function selfTest() {
    const problems = [];
    let explained = 0;
    DATA.sentences.forEach((sentence, n) => {
      state.sentence = n;
      for (const type of TYPES) {
        for (let layer = 0; layer < layerCount(sentence, type.id); ++layer) {
          const heads = [...Array(sentence.model.num_heads).keys(), 'mean'];
          for (const head of heads) {
            Object.assign(state, {type: type.id, layer, head, query: 0});
            render();
            const s = site(sentence, type.id, layer);
            const where = `sentence ${n} ${s.site} head ${head}`;
            if (heatmap.querySelectorAll('tbody tr').length !== s.Tq) problems.push(`${where}: heatmap rows`);
            if (heatmap.querySelectorAll('tbody tr:first-child td').length !== s.Tk) problems.push(`${where}: heatmap columns`);
            if (headView.querySelectorAll('text[data-query]').length !== s.Tq) problems.push(`${where}: head view queries`);
            if (headView.querySelectorAll('text[data-key]').length !== s.Tk) problems.push(`${where}: head view keys`);
            hover(s.Tq - 1, null);
            const drawn = headView.querySelectorAll('line').length;
            hover(null, null);
            if (drawn > s.Tk) problems.push(`${where}: hovering one query drew ${drawn} lines`);
            if (head === 'mean') continue;
            if (headIsOff(s.site, head) !== (explainer.querySelector('.check.off') !== null)) problems.push(`${where}: switched-off note`);
            if (explainer.querySelector('.check.bad')) problems.push(`${where}: explainer shows a failed check`);
            for (let i = 0; i < s.Tq; ++i) {
              const ex = explain(s, type.id, head, i);
              let sum = 0;
              for (const r of ex.rows) {
                sum += r.recorded;
                if (r.masked && r.recorded !== 0) problems.push(`${where} query ${i}: masked key ${r.j} has weight ${r.recorded}`);
              }
              if (Math.abs(sum - 1) > 1e-4) problems.push(`${where} query ${i}: row sums to ${sum}`);
              if (ex.weightError > 1e-5) problems.push(`${where} query ${i}: softmax differs by ${ex.weightError}`);
              if (headIsOff(s.site, head)) {  // switched off: zeros recorded, and the page says so
                if (ex.recordedOut.some((x) => x !== 0)) problems.push(`${where} query ${i}: switched off, but its recorded output is not zero`);
              } else if (ex.outputError > 1e-4) {
                problems.push(`${where} query ${i}: head output differs by ${ex.outputError}`);
              }
              ++explained;
            }
          }
        }
      }
    });
    timeline.forEach((snapshot, index) => {
      snapshot.probes.forEach((probe, p) => {
        Object.assign(tl, {index, probe: p, layer: 0, head: 'mean'});
        renderTimeline();
        if (timelineSection.querySelectorAll('tbody tr').length !== probe.target_tokens.length) {
          problems.push(`timeline step ${snapshot.step} probe ${p}: heatmap rows`);
        }
        if (timelineSection.querySelectorAll('.filmstrip canvas').length !== timeline.length) {
          problems.push(`timeline step ${snapshot.step} probe ${p}: filmstrip`);
        }
      });
    });
    Object.assign(state, {sentence: 0, type: 'cross', layer: first.model.decoder_layers - 1, head: 0, query: 0});
    render();
    if (timeline.length) renderTimeline();
    document.body.dataset.selftest = problems.length || errors.length ? 'fail' : 'pass';
    document.body.dataset.explained = String(explained);
    app.append(el('section', {}, el('h2', {text: 'Self-test'}), el('pre', {id: 'selftest-report',
      text: `${explained} queries explained; ${problems.length} problems\n${problems.slice(0, 50).join('\n')}`})));
  }

  render();
  if (timeline.length) renderTimeline();
  document.body.dataset.sentences = String(DATA.sentences.length);
  document.body.dataset.heads = String(first.model.num_heads);
  document.body.dataset.encoderLayers = String(first.model.encoder_layers);
  document.body.dataset.decoderLayers = String(first.model.decoder_layers);
  document.body.dataset.timelineSteps = String(timeline.length);
  if (location.hash === '#selftest') selfTest();
  if (location.hash === '#timeline' && timeline.length) app.prepend(timelineSection);  // for screenshots
  document.body.dataset.ready = '1';
})();
