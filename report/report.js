/* loong report: draws the page from the JSON in #loong-data, written by
 * `loong report` (src/cli/report.c).
 *
 * Hand-written, no dependencies, nothing loaded from anywhere. Text from
 * the profile reaches the page only through textContent and attributes,
 * never as HTML. A section is one entry of SECTIONS below, under the id
 * report.c gives its data; a section whose data is absent is not drawn
 * (unless its entry says what to show instead).
 */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('loong-data').textContent);
  var meta = data.meta || {};
  var sections = data.sections || {};

  /* ---- helpers ------------------------------------------------------ */

  /* h('div', {className: 'x', text: 'y', attrs: {...}}, child, ...) */
  function h(tag, props) {
    var e = document.createElement(tag);
    var p = props || {};
    if (p.className) e.className = p.className;
    if (p.text !== undefined) e.textContent = String(p.text);
    if (p.title !== undefined) e.title = String(p.title);
    if (p.attrs) {
      Object.keys(p.attrs).forEach(function (k) { e.setAttribute(k, p.attrs[k]); });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function str(v) {
    return v === null || v === undefined ? '' : String(v);
  }

  /* microseconds, human */
  function fmtUs(us) {
    if (typeof us !== 'number' || !isFinite(us)) return '?';
    var a = Math.abs(us);
    if (a >= 1e6) return (us / 1e6).toFixed(a >= 1e8 ? 0 : 2) + ' s';
    if (a >= 1e3) return (us / 1e3).toFixed(a >= 1e5 ? 0 : 2) + ' ms';
    return us.toFixed(a >= 100 ? 0 : 1) + ' \u00b5s';
  }

  function fmtPct(x) {
    if (!isFinite(x)) return '?';
    return (x * 100).toFixed(x >= 0.1 ? 1 : 2) + '%';
  }

  function fmtCount(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : str(n);
  }

  /* "2026-11-24T14:45:40.187310Z": milliseconds since the epoch, with
   * the microseconds as a fraction; NaN otherwise. */
  function parseIso(s) {
    var m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$/.exec(str(s));
    if (!m) return NaN;
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) +
      (m[7] ? parseFloat(m[7]) * 1000 : 0);
  }

  function fmtTime(ms) {
    if (!isFinite(ms) || Math.abs(ms) > 8.64e15) return '?'; /* Date's range */
    return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
  }

  /* a shell-like command line from argv */
  function shellJoin(argv) {
    return argv.map(function (a) {
      a = str(a);
      return /^[A-Za-z0-9_@%+=:,.\/-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'";
    }).join(' ');
  }

  function toolkit(name) {
    var t = Array.isArray(meta.toolkits) ? meta.toolkits : [];
    for (var i = 0; i < t.length; i++) if (t[i] && t[i].name === name) return t[i];
    return null;
  }

  /* "name (file:line)" -> "name" */
  function shortName(full) {
    var i = full.lastIndexOf(' (');
    return i > 0 && full.charAt(full.length - 1) === ')' ? full.slice(0, i) : full;
  }

  /* A warm colour from a name, the same name always the same colour. */
  function colour(name) {
    var x = 0;
    for (var i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) | 0;
    x = x >>> 0;
    return 'hsl(' + (8 + x % 42) + ',' + (72 + (x >> 8) % 20) + '%,' + (58 + (x >> 16) % 14) + '%)';
  }

  function debounce(fn, ms) {
    var t = 0;
    return function () {
      clearTimeout(t);
      t = setTimeout(fn, ms);
    };
  }

  /* ---- header ------------------------------------------------------- */

  function renderHeader() {
    var dl = document.getElementById('meta');
    function row(label, value, cls) {
      if (value === null || value === undefined || value === '') return;
      dl.appendChild(h('dt', {text: label}));
      dl.appendChild(h('dd', {text: value, className: cls || ''}));
    }
    row('Program', meta.program);
    row('PID', meta.pid !== undefined ? str(meta.pid) + (meta.ppid !== undefined ? ' (parent ' + meta.ppid + ')' : '') : '');
    row('Host', meta.host);
    if (Array.isArray(meta.argv)) row('Command', shellJoin(meta.argv));
    if (meta.python && typeof meta.python === 'object') {
      row('Python', str(meta.python.version) + (meta.python.implementation ? ' (' + meta.python.implementation + ')' : ''));
    }
    var start = parseIso(meta.start), end = parseIso(meta.end);
    row('Started', isFinite(start) ? fmtTime(start) : meta.start);
    if (isFinite(start) && isFinite(end)) {
      row('Duration', fmtUs((end - start) * 1000));
    } else if (meta.end === null) {
      row('Duration', 'unknown: the process had not ended (still running, or killed by SIGKILL or os._exit)', 'warn');
    }
    row('Exit', meta.exit);
    if (Array.isArray(meta.toolkits)) {
      row('Toolkits', meta.toolkits.map(function (t) {
        t = t || {};
        var opts = t.options && typeof t.options === 'object' ? Object.keys(t.options).map(function (k) {
          return k + '=' + str(t.options[k]);
        }) : [];
        return str(t.name) + (t.version ? ' ' + t.version : '') + (opts.length ? ' (' + opts.join(', ') + ')' : '');
      }).join('; ') || 'none');
    }
    if (meta.records !== undefined) {
      row('Records', fmtCount(meta.records) + ' kept, ' + fmtCount(meta.dropped || 0) + ' dropped',
          meta.dropped ? 'warn' : '');
    }
    var rep = data.report || {};
    document.getElementById('foot').textContent = 'Written by loong ' + str(rep.loong_version) +
      ' at ' + str(rep.generated) + ' from ' + str(rep.folder) + '.';
  }

  /* ---- flame graph -------------------------------------------------- */

  var ROW = 18;          /* px per frame row */
  var MIN_FRAC = 0.001;  /* frames narrower than this share of the view are not drawn */
  var MAX_FRAMES = 6000; /* above that, the threshold doubles */

  /* The values of function.collapsed: microseconds of self time, in
   * trace and in sample mode alike (docs/formats.md). */
  function fmtWeight(v) {
    return fmtUs(v);
  }

  function renderFlame(sec, f) {
    var N = f.n.length, names = f.names, nidx = f.n, depth = f.d, val = f.v;
    var total = val[0];

    sec.appendChild(h('p', {className: 'note'},
      fmtCount(f.stacks) + ' call paths, ' + fmtWeight(total) + ' in all ' +
      '(self time of each path; a frame is as wide as its total time). Click a frame to zoom to it; frames narrower than 0.1% of the view are not drawn.'));
    if (!(total > 0) || N < 2) {
      sec.appendChild(h('p', {className: 'note', text: 'No call path took any time.'}));
      return;
    }

    /* layout: x offset, parent and subtree end of every node (preorder) */
    var x = new Float64Array(N), cur = new Float64Array(N);
    var parent = new Int32Array(N), end = new Uint32Array(N);
    var byDepth = [], open = [];
    parent[0] = -1;
    for (var i = 0; i < N; i++) {
      var d = depth[i];
      while (open.length && depth[open[open.length - 1]] >= d) end[open.pop()] = i;
      open.push(i);
      byDepth[d] = i;
      if (i > 0) {
        var p = byDepth[d - 1];
        parent[i] = p;
        x[i] = cur[p];
        cur[p] += val[i];
      }
      cur[i] = x[i];
    }
    while (open.length) end[open.pop()] = N;

    function nameOf(i) {
      return i === 0 ? 'all' : str(names[nidx[i]]);
    }

    var matched = null; /* Uint8Array per name index, or null */
    var zoomed = 0;

    var search = h('input', {attrs: {type: 'search', id: 'flame-search', placeholder: 'search frames',
                                     'aria-label': 'search frames', autocomplete: 'off'}});
    var matchedText = h('span', {className: 'matched', attrs: {id: 'flame-matched', 'aria-live': 'polite'}});
    var reset = h('button', {text: 'Reset zoom', attrs: {id: 'flame-reset', type: 'button'}});
    var zoomNote = h('span', {className: 'note', attrs: {id: 'flame-where'}});
    sec.appendChild(h('div', {className: 'controls'}, search, matchedText, reset, zoomNote));

    var box = h('div', {className: 'flame', attrs: {id: 'flame-graph', role: 'img', 'aria-label': 'flame graph'}});
    sec.appendChild(box);
    var tip = h('div', {attrs: {id: 'tip', hidden: ''}});
    document.body.appendChild(tip);

    function draw() {
      var z = zoomed, vz = val[z], x0 = x[z];
      var frac = MIN_FRAC, count;
      /* count first: raise the threshold until the frames fit */
      for (;;) {
        count = 0;
        var lim = vz * frac;
        for (var i = z; i < end[z] && count <= MAX_FRAMES;) {
          if (val[i] < lim || val[i] <= 0) { i = end[i]; continue; }
          count++;
          i++;
        }
        if (count <= MAX_FRAMES) break;
        frac *= 2;
      }
      var frag = document.createDocumentFragment(), maxDepth = depth[z];
      function frame(i, left, width, extra) {
        var name = nameOf(i);
        var e = document.createElement('div');
        e.className = 'fr' + extra + (matched && i > 0 && matched[nidx[i]] ? ' match' : '');
        e.style.left = (left * 100) + '%';
        e.style.width = (width * 100) + '%';
        e.style.top = (depth[i] * ROW) + 'px';
        e.style.setProperty('--c', colour(shortName(name)));
        e.setAttribute('data-i', String(i));
        e.setAttribute('data-depth', String(depth[i]));
        e.setAttribute('data-name', name);
        e.textContent = shortName(name);
        frag.appendChild(e);
      }
      for (var a = parent[z]; a >= 0; a = parent[a]) frame(a, 0, 1, ' anc');
      var lim2 = vz * frac;
      for (var j = z; j < end[z];) {
        if (val[j] < lim2 || val[j] <= 0) { j = end[j]; continue; }
        frame(j, (x[j] - x0) / vz, val[j] / vz, j === z ? ' zoomed' : '');
        if (depth[j] > maxDepth) maxDepth = depth[j];
        j++;
      }
      box.textContent = '';
      box.style.height = ((maxDepth + 1) * ROW + 2) + 'px';
      box.appendChild(frag);
      zoomNote.textContent = z === 0 ? '' : 'zoomed to ' + shortName(nameOf(z)) + ' (' + fmtPct(val[z] / total) + ' of all)';
      if (frac > MIN_FRAC) zoomNote.textContent += (zoomNote.textContent ? '; ' : '') + 'frames under ' + fmtPct(frac) + ' hidden';
    }

    function zoom(i) {
      zoomed = i >= 0 && i < N ? i : 0;
      tip.hidden = true;
      draw();
    }

    function applySearch() {
      var q = search.value.trim().toLowerCase();
      if (!q) {
        matched = null;
        matchedText.textContent = '';
        draw();
        return;
      }
      matched = new Uint8Array(names.length);
      for (var k = 0; k < names.length; k++) matched[k] = str(names[k]).toLowerCase().indexOf(q) >= 0 ? 1 : 0;
      /* the outermost matching frames: nested matches are counted once */
      var sum = 0, frames = 0;
      for (var i = 1; i < N;) {
        if (matched[nidx[i]]) { sum += val[i]; frames++; i = end[i]; } else i++;
      }
      matchedText.textContent = frames ? 'Matched: ' + fmtPct(sum / total) + ' of all' : 'No frame matches';
      draw();
    }

    box.addEventListener('click', function (ev) {
      var t = ev.target.closest ? ev.target.closest('.fr') : null;
      if (t) zoom(+t.getAttribute('data-i'));
    });
    box.addEventListener('mousemove', function (ev) {
      var t = ev.target.closest ? ev.target.closest('.fr') : null;
      if (!t) { tip.hidden = true; return; }
      var i = +t.getAttribute('data-i');
      tip.textContent = '';
      tip.appendChild(h('div', {className: 'tip-name', text: nameOf(i)}));
      tip.appendChild(h('div', {text: fmtWeight(val[i]) + ', ' + fmtPct(val[i] / total) + ' of all' +
        (zoomed ? ', ' + fmtPct(val[i] / val[zoomed]) + ' of the zoomed frame' : '')}));
      tip.hidden = false;
      var w = tip.offsetWidth, hh = tip.offsetHeight;
      var left = Math.min(ev.clientX + 14, window.innerWidth - w - 4);
      var top = ev.clientY + 16 + hh > window.innerHeight ? ev.clientY - hh - 8 : ev.clientY + 16;
      tip.style.left = Math.max(0, left) + 'px';
      tip.style.top = Math.max(0, top) + 'px';
    });
    box.addEventListener('mouseleave', function () { tip.hidden = true; });
    reset.addEventListener('click', function () { zoom(0); });
    search.addEventListener('input', debounce(applySearch, 120));
    search.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') applySearch(); });
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && ev.target === document.body) zoom(0);
    });
    draw();
  }

  /* ---- tables (function.tsv) ---------------------------------------- */

  var COLUMN_HELP = {
    calls: 'calls that ended',
    total_us: 'time inside the function and what it called, in microseconds',
    self_us: 'time in the function itself, in microseconds',
    max_us: 'longest single call, in microseconds',
    samples: 'sample mode: samples in which the function was on the stack',
    function: 'qualified name',
    line: 'first line of the function'
  };
  var MAX_ROWS = 1000;

  function renderTable(sec, t) {
    var cols = t.columns || [], numeric = t.numeric || [], rows = t.rows || [];
    var order = rows.map(function (_, i) { return i; });
    var sortCol = -1, desc = false, filter = '';

    var input = h('input', {attrs: {type: 'search', id: 'functions-filter', placeholder: 'filter rows',
                                    'aria-label': 'filter rows', autocomplete: 'off'}});
    var count = h('span', {className: 'note'});
    sec.appendChild(h('p', {className: 'note', text: 'Click a column header to sort by it (again to reverse).'}));
    sec.appendChild(h('div', {className: 'controls'}, input, count));

    var table = h('table', {className: 'data', attrs: {id: 'functions-table'}});
    var headRow = h('tr');
    var ths = cols.map(function (c, k) {
      var help = Object.prototype.hasOwnProperty.call(COLUMN_HELP, c) ? COLUMN_HELP[c] : '';
      var th = h('th', {title: help, attrs: {scope: 'col', tabindex: '0', 'data-col': String(k)}},
                 h('span', {text: c}), h('span', {className: 'arrow'}));
      if (numeric[k]) th.className = 'num';
      headRow.appendChild(th);
      return th;
    });
    var thead = h('thead', null, headRow), tbody = h('tbody');
    table.appendChild(thead);
    table.appendChild(tbody);
    sec.appendChild(h('div', {className: 'table-wrap'}, table));

    function cmp(a, b) {
      var va = rows[a][sortCol], vb = rows[b][sortCol], r;
      if (numeric[sortCol]) {
        va = typeof va === 'number' ? va : -Infinity;
        vb = typeof vb === 'number' ? vb : -Infinity;
        r = va < vb ? -1 : va > vb ? 1 : 0;
      } else {
        va = str(va);
        vb = str(vb);
        r = va < vb ? -1 : va > vb ? 1 : 0;
      }
      return (desc ? -r : r) || a - b;
    }

    function draw() {
      var shown = order;
      if (filter) {
        shown = order.filter(function (i) {
          return rows[i].some(function (v) { return typeof v === 'string' && v.toLowerCase().indexOf(filter) >= 0; });
        });
      }
      var frag = document.createDocumentFragment();
      for (var k = 0; k < shown.length && k < MAX_ROWS; k++) {
        var r = rows[shown[k]], tr = document.createElement('tr');
        for (var c = 0; c < cols.length; c++) {
          var td = document.createElement('td');
          td.textContent = str(r[c]);
          if (numeric[c]) td.className = 'num';
          tr.appendChild(td);
        }
        frag.appendChild(tr);
      }
      tbody.textContent = '';
      tbody.appendChild(frag);
      count.textContent = shown.length > MAX_ROWS
        ? 'showing the first ' + fmtCount(MAX_ROWS) + ' of ' + fmtCount(shown.length) + ' rows'
        : fmtCount(shown.length) + ' rows';
      ths.forEach(function (th, k) {
        th.lastChild.textContent = k === sortCol ? (desc ? '\u25bc' : '\u25b2') : '';
        if (k === sortCol) th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
        else th.removeAttribute('aria-sort');
      });
    }

    function sortBy(k) {
      if (k === sortCol) desc = !desc;
      else { sortCol = k; desc = !!numeric[k]; }
      order.sort(cmp);
      draw();
    }

    ths.forEach(function (th, k) {
      th.addEventListener('click', function () { sortBy(k); });
      th.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sortBy(k); }
      });
    });
    input.addEventListener('input', debounce(function () {
      filter = input.value.trim().toLowerCase();
      draw();
    }, 120));
    draw();
  }

  /* ---- slow calls (function.slow.jsonl) ----------------------------- */

  var MAX_SLOW = 1000;

  /* "function  module  file:line", leaving out what is missing */
  function where(c) {
    var s = str(c.function);
    if (c.module) s += '  ' + c.module;
    if (c.file) s += '  ' + c.file + (typeof c.line === 'number' ? ':' + c.line : '');
    return s;
  }

  function renderSlow(sec, list) {
    var fn = toolkit('function');
    var threshold = fn && fn.options && fn.options.slow ? fn.options.slow : '';
    if (!Array.isArray(list) && fn && fn.options && fn.options.mode === 'sample') {
      sec.appendChild(h('p', {className: 'note', text: 'Slow calls are kept in trace mode only ' +
        '(-t function:slow=50ms); this profile was sampled.'}));
      return;
    }
    if (!Array.isArray(list)) {
      sec.appendChild(h('p', {className: 'note', text: threshold
        ? 'No slow calls were recorded (function.slow.jsonl is missing).'
        : 'No slow calls were recorded: profile with -t function:slow=50ms to keep every call longer ' +
          'than 50 ms with the calls it made.'}));
      return;
    }
    if (list.length === 0) {
      sec.appendChild(h('p', {className: 'note', text: 'No slow calls were recorded: no call took ' +
        (threshold ? threshold + ' or longer' : 'longer than the threshold') + '.'}));
      return;
    }
    var start = parseIso(meta.start);
    var ordered = list.slice();
    var sel = h('select', {attrs: {id: 'slow-order', 'aria-label': 'order'}},
                h('option', {text: 'in the order they ended', attrs: {value: 'ended'}}),
                h('option', {text: 'slowest first', attrs: {value: 'slowest'}}));
    sec.appendChild(h('div', {className: 'controls'},
      h('span', {className: 'note', text: fmtCount(list.length) + ' calls' +
        (threshold ? ' of ' + threshold + ' or longer' : '') + '; open one to see the calls it made, in call order.'}),
      sel));
    var box = h('div', {attrs: {id: 'slow-list'}});
    sec.appendChild(box);

    function callRow(depth, startUs, durUs, total, c, head) {
      var bar = h('div', {className: 'bar'});
      bar.style.left = fmtPct(Math.max(0, Math.min(1, startUs / total)));
      bar.style.width = fmtPct(Math.max(0, Math.min(1, durUs / total)));
      var name = h('div', {className: 'name', text: where(c)});
      name.style.paddingLeft = (depth * 1.5) + 'em';
      return h('div', {className: 'call' + (head ? ' head' : '')},
               h('div', {className: 'start', text: head ? 'start' : '+' + fmtUs(startUs)}),
               h('div', {className: 'dur', text: fmtUs(durUs)}),
               h('div', {className: 'track'}, bar), name);
    }

    function fill(d, s) {
      var total = typeof s.duration_us === 'number' && s.duration_us > 0 ? s.duration_us : 1;
      var calls = Array.isArray(s.calls) ? s.calls : [];
      var box2 = h('div', {className: 'calls'});
      box2.appendChild(callRow(0, 0, s.duration_us, total, s, true));
      calls.forEach(function (c) {
        if (!c || typeof c !== 'object') return;
        var dep = typeof c.depth === 'number' ? Math.max(0, Math.min(c.depth, 60)) : 1;
        box2.appendChild(callRow(dep, +c.start_us || 0, +c.duration_us || 0, total, c, false));
      });
      if (!calls.length) box2.appendChild(h('div', {className: 'note', text: 'It made no Python call.'}));
      if (s.truncated) {
        box2.appendChild(h('div', {className: 'note warn', text: 'Some calls were left out (too many, or older than the ' +
          'thread\'s memory of its last calls).'}));
      }
      d.appendChild(box2);
    }

    function draw() {
      box.textContent = '';
      var frag = document.createDocumentFragment();
      ordered.slice(0, MAX_SLOW).forEach(function (s) {
        if (!s || typeof s !== 'object') return;
        var wall = typeof s.wall_ns === 'number' ? s.wall_ns / 1e6 : NaN;
        var d = h('details', {className: 'slow'},
          h('summary', null,
            h('span', {className: 'dur', text: fmtUs(s.duration_us)}), '  ',
            h('span', {className: 'fn', text: where(s)}), '  ',
            h('span', {className: 'note', text: 'at ' + fmtTime(wall) +
              (isFinite(start) && isFinite(wall) ? ' (+' + fmtUs((wall - start) * 1000) + ')' : '') +
              ', thread ' + str(s.thread) + (s.truncated ? ', truncated' : '')})));
        var filled = false;
        d.addEventListener('toggle', function () {
          if (d.open && !filled) { filled = true; fill(d, s); }
        });
        frag.appendChild(d);
      });
      if (ordered.length > MAX_SLOW) {
        frag.appendChild(h('p', {className: 'note', text: 'and ' + fmtCount(ordered.length - MAX_SLOW) + ' more'}));
      }
      box.appendChild(frag);
    }

    sel.addEventListener('change', function () {
      ordered = list.slice();
      if (sel.value === 'slowest') {
        ordered.sort(function (a, b) { return (+(b && b.duration_us) || 0) - (+(a && a.duration_us) || 0); });
      }
      draw();
    });
    draw();
  }

  /* ---- exceptions (exceptions.jsonl) ------------------------------- */

  var MAX_EXC = 1000;

  function num(v) { return typeof v === 'number' && isFinite(v) ? v : 0; }

  function renderExceptions(sec, list) {
    if (!Array.isArray(list) || list.length === 0) {
      sec.appendChild(h('p', {className: 'note', text: 'No exceptions were recorded.'}));
      return;
    }
    var raised = 0, uncaught = 0;
    list.forEach(function (e) { raised += num(e && e.raised); uncaught += num(e && e.uncaught); });
    sec.appendChild(h('p', {className: 'note', text: fmtCount(list.length) + ' distinct exceptions (type and ' +
      'where raised), ' + fmtCount(raised) + ' raised, ' + fmtCount(uncaught) + ' uncaught. Uncaught first, ' +
      'then most raised; open one to see its stack.'}));
    var ordered = list.filter(function (e) { return e && typeof e === 'object'; });
    ordered.sort(function (a, b) {
      return (num(b.uncaught) > 0) - (num(a.uncaught) > 0) || num(b.raised) - num(a.raised);
    });
    var box = h('div', {attrs: {id: 'exceptions-list'}});
    ordered.slice(0, MAX_EXC).forEach(function (e) {
      var stack = Array.isArray(e.stack) ? e.stack : [];
      var top = stack.length && stack[0] && typeof stack[0] === 'object' ? stack[0] : {};
      var counts = 'raised ' + fmtCount(num(e.raised)) + ', handled ' + fmtCount(num(e.handled)) +
                   (num(e.uncaught) ? ', UNCAUGHT ' + fmtCount(num(e.uncaught)) : '');
      var summary = h('summary', null,
        h('span', {className: 'exc-type', text: str(e.type)}),
        h('span', {className: 'exc-msg', text: e.message ? ': ' + str(e.message) : ''}),
        h('span', {className: 'exc-counts', text: '  ' + counts}),
        h('span', {className: 'note', text: '  in ' + str(top.function) +
          (top.file ? '  ' + str(top.file) + (typeof e.line === 'number' ? ':' + e.line : '') : '')}));
      var ol = h('ol', {className: 'exc-stack'});
      stack.forEach(function (f) {
        if (!f || typeof f !== 'object') return;
        ol.appendChild(h('li', {text: str(f.function) + '  ' + str(f.module) + '  ' + str(f.file) +
          (typeof f.first_line === 'number' ? ':' + f.first_line : '')}));
      });
      var d = h('details', {className: 'exc' + (num(e.uncaught) ? ' uncaught' : '')}, summary, ol);
      box.appendChild(d);
    });
    if (ordered.length > MAX_EXC)
      sec.appendChild(h('p', {className: 'note', text: 'Showing the first ' + fmtCount(MAX_EXC) + '.'}));
    sec.appendChild(box);
  }

  /* ---- sections ----------------------------------------------------- */

  function functionToolkitRan() {
    return !!toolkit('function') || 'flame' in sections || 'functions' in sections;
  }

  /* In page order. `always`: drawn even without data, when it says so. */
  var SECTIONS = [
    {id: 'flame', title: 'Flame graph', render: renderFlame},
    {id: 'functions', title: 'Functions', render: renderTable},
    {id: 'slow', title: 'Slow calls', render: renderSlow, always: functionToolkitRan},
    {id: 'exceptions', title: 'Exceptions', render: renderExceptions,
     always: function () { return !!toolkit('exception'); }}
  ];

  function main() {
    renderHeader();
    var page = document.getElementById('sections'), toc = document.getElementById('toc');
    var known = {};
    SECTIONS.forEach(function (s) {
      known[s.id] = true;
      var has = Object.prototype.hasOwnProperty.call(sections, s.id);
      if (!has && !(s.always && s.always())) return;
      var sec = h('section', {attrs: {id: s.id, 'aria-labelledby': s.id + '-title'}},
                  h('h2', {text: s.title, attrs: {id: s.id + '-title'}}));
      page.appendChild(sec);
      toc.appendChild(h('a', {text: s.title, attrs: {href: '#' + s.id}}));
      try {
        s.render(sec, has ? sections[s.id] : undefined);
      } catch (err) {
        sec.appendChild(h('p', {className: 'error', text: 'This section could not be drawn: ' + err}));
        console.error(err);
      }
    });
    Object.keys(sections).forEach(function (id) {
      if (!known[id]) {
        page.appendChild(h('section', {attrs: {id: 'unknown-' + id}},
          h('p', {className: 'note', text: 'Section "' + id + '": this page does not know how to draw it.'})));
      }
    });
  }

  main();
})();
