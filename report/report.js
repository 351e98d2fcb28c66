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

  /* "1 stack", "3 stacks" */
  function plural(n, word) {
    return fmtCount(n) + ' ' + word + (n === 1 ? '' : 's');
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

  /* bytes, human: 1024-based units */
  function fmtBytes(b) {
    if (typeof b !== 'number' || !isFinite(b)) return '?';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], k = 0, a = Math.abs(b);
    while (a >= 1024 && k < units.length - 1) { a /= 1024; b /= 1024; k++; }
    return (k === 0 ? b.toFixed(0) : b.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2)) + ' ' + units[k];
  }

  /* bytes, human and exact: "20.7 MiB (21,701,170 B)" */
  function fmtBytesExact(b) {
    if (typeof b !== 'number' || !isFinite(b)) return '?';
    return Math.abs(b) < 1024 ? fmtCount(Math.round(b)) + ' B'
      : fmtBytes(b) + ' (' + fmtCount(Math.round(b)) + ' B)';
  }

  /* The one tooltip of the page, shown at a mouse event. */
  function tipElement() {
    var tip = document.getElementById('tip');
    if (!tip) {
      tip = h('div', {attrs: {id: 'tip', hidden: ''}});
      document.body.appendChild(tip);
    }
    return tip;
  }

  function placeTip(tip, ev) {
    tip.hidden = false;
    var w = tip.offsetWidth, hh = tip.offsetHeight;
    var left = Math.min(ev.clientX + 14, window.innerWidth - w - 4);
    var top = ev.clientY + 16 + hh > window.innerHeight ? ev.clientY - hh - 8 : ev.clientY + 16;
    tip.style.left = Math.max(0, left) + 'px';
    tip.style.top = Math.max(0, top) + 'px';
  }

  /* The profiles a flame graph is drawn from, by section id: the values
   * of function.collapsed are microseconds of self time (trace and
   * sample mode alike); those of mem.alloc.collapsed and
   * mem.live.collapsed estimated bytes (docs/formats.md). */
  var FLAMES = [
    {id: 'flame', label: 'time', fmt: fmtUs,
     note: function (f) {
       return plural(f.stacks, 'call path') + ', ' + fmtUs(f.v[0]) + ' in all ' +
         '(self time of each path; a frame is as wide as its total time).';
     },
     empty: 'No call path took any time.'},
    {id: 'mem_alloc', label: 'allocated bytes', fmt: fmtBytesExact,
     note: function (f) {
       return plural(f.stacks, 'stack') + ', ' + fmtBytes(f.v[0]) + ' allocated in all over the run ' +
         '(estimated from sampled allocations; a frame is as wide as the bytes allocated in it and ' +
         'in what it called).';
     },
     empty: 'No allocation was sampled.'},
    {id: 'mem_live', label: 'live bytes', fmt: fmtBytesExact,
     note: function (f) {
       return plural(f.stacks, 'stack') + ', ' + fmtBytes(f.v[0]) + ' allocated and still alive at the end ' +
         '(estimated from sampled allocations: leak candidates; a frame is as wide as the live bytes ' +
         'allocated in it and in what it called).';
     },
     empty: 'No sampled block was still alive at the end.'}
  ];

  function present(id) {
    return Object.prototype.hasOwnProperty.call(sections, id) && sections[id] && typeof sections[id] === 'object';
  }

  /* Set by renderFlame: show(kind id, search text) switches the graph. */
  var flameControl = null;

  function renderFlame(sec) {
    var kinds = FLAMES.filter(function (k) { return present(k.id); });
    var kind = null, f = null, N = 0, names = [], nidx = [], depth = [], val = [], total = 0;
    var x, parent, end;
    var matched = null; /* Uint8Array per name index, or null */
    var zoomed = 0;

    var note = h('p', {className: 'note'});
    var help = h('p', {className: 'note', text: 'Click a frame to zoom to it; frames narrower than 0.1% of the ' +
      'view are not drawn.'});
    sec.appendChild(note);
    sec.appendChild(help);
    var select = null;
    if (kinds.length > 1) {
      select = h('select', {attrs: {id: 'flame-kind', 'aria-label': 'what a frame weighs'}});
      kinds.forEach(function (k) { select.appendChild(h('option', {text: k.label, attrs: {value: k.id}})); });
    }
    var search = h('input', {attrs: {type: 'search', id: 'flame-search', placeholder: 'search frames',
                                     'aria-label': 'search frames', autocomplete: 'off'}});
    var matchedText = h('span', {className: 'matched', attrs: {id: 'flame-matched', 'aria-live': 'polite'}});
    var reset = h('button', {text: 'Reset zoom', attrs: {id: 'flame-reset', type: 'button'}});
    var zoomNote = h('span', {className: 'note', attrs: {id: 'flame-where'}});
    sec.appendChild(h('div', {className: 'controls'},
      select ? h('label', {className: 'note'}, 'Weight: ', select) : null,
      search, matchedText, reset, zoomNote));

    var box = h('div', {className: 'flame', attrs: {id: 'flame-graph', role: 'img', 'aria-label': 'flame graph'}});
    sec.appendChild(box);
    var tip = tipElement();

    function nameOf(i) {
      return i === 0 ? 'all' : str(names[nidx[i]]);
    }

    /* layout of kind k's tree: x offset, parent and subtree end of every
     * node (preorder) */
    function load(k) {
      kind = k;
      f = sections[k.id];
      names = Array.isArray(f.names) ? f.names : [];
      nidx = Array.isArray(f.n) ? f.n : [];
      depth = Array.isArray(f.d) ? f.d : [];
      val = Array.isArray(f.v) ? f.v : [];
      N = Math.min(nidx.length, depth.length, val.length);
      total = N ? val[0] : 0;
      x = new Float64Array(N);
      var cur = new Float64Array(N);
      parent = new Int32Array(N);
      end = new Uint32Array(N);
      var byDepth = [], open = [];
      if (N) parent[0] = -1;
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
      zoomed = 0;
      matched = null;
      var empty = !(total > 0) || N < 2;
      note.textContent = k.note({stacks: f.stacks, v: [total]}) + (empty ? ' ' + k.empty : '');
      box.hidden = empty;
      help.hidden = empty;
      sec.setAttribute('data-kind', k.id);
    }

    function draw() {
      if (box.hidden) {
        box.textContent = '';
        zoomNote.textContent = '';
        return;
      }
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
      if (!q || box.hidden) {
        matched = null;
        matchedText.textContent = q ? 'No frame matches' : '';
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

    function show(id, text) {
      for (var k = 0; k < kinds.length; k++) {
        if (kinds[k].id !== id) continue;
        if (select) select.value = id;
        if (kind !== kinds[k]) load(kinds[k]);
        if (text !== undefined) search.value = text;
        tip.hidden = true;
        applySearch();
        return true;
      }
      return false;
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
      tip.appendChild(h('div', {text: kind.fmt(val[i]) + ', ' + fmtPct(val[i] / total) + ' of all' +
        (zoomed ? ', ' + fmtPct(val[i] / val[zoomed]) + ' of the zoomed frame' : '')}));
      placeTip(tip, ev);
    });
    box.addEventListener('mouseleave', function () { tip.hidden = true; });
    reset.addEventListener('click', function () { zoom(0); });
    search.addEventListener('input', debounce(applySearch, 120));
    search.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') applySearch(); });
    if (select) select.addEventListener('change', function () { show(select.value); });
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && ev.target === document.body) zoom(0);
    });
    /* time first; without it, live bytes (where leaks show) */
    var first = kinds[0];
    if (first.id !== 'flame') kinds.forEach(function (k) { if (k.id === 'mem_live') first = k; });
    load(first);
    if (select) select.value = first.id;
    draw();
    flameControl = {show: show};
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

  /* ---- memory (loong_mem points of metrics.lp, mem.live.collapsed) -- */

  var SVGNS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /* The loong_mem fields the page knows (docs/formats.md), in legend
   * order: a label, a colour, and whether it is drawn before the reader
   * asks for it. Any other numeric field is drawn too, on demand: on the
   * bytes chart when "bytes" is a word of its name (rss_bytes,
   * alloc_bytes_obj), else on the counts chart. */
  var MEM_FIELDS = {
    rss_bytes: {label: 'RSS', colour: '#2f6fdb', shown: true},
    pss_bytes: {label: 'PSS', colour: '#2b8a3e', shown: true},
    uss_bytes: {label: 'USS', colour: '#e8590c', shown: true},
    sampled_live_bytes: {label: 'live (sampled estimate)', colour: '#c2255c', shown: true},
    vms_bytes: {label: 'virtual size', colour: '#868e96'},
    sampled_alloc_bytes: {label: 'allocated since start (sampled estimate)', colour: '#9c36b5'},
    alloc_bytes_obj: {label: 'allocated, object domain (since start)'},
    alloc_bytes_mem: {label: 'allocated, mem domain (since start)'},
    alloc_bytes_raw: {label: 'allocated, raw domain (since start)'},
    allocated_blocks: {label: 'allocated blocks', colour: '#1098ad', shown: true},
    gc_count_0: {label: 'gc pending, generation 0'},
    gc_count_1: {label: 'gc pending, generation 1'},
    gc_count_2: {label: 'gc pending, generation 2'},
    gc_collections_0: {label: 'gc collections, generation 0 (since start)'},
    gc_collections_1: {label: 'gc collections, generation 1 (since start)'},
    gc_collections_2: {label: 'gc collections, generation 2 (since start)'},
    gc_collected: {label: 'gc collected objects (since start)'},
    gc_uncollectable: {label: 'gc uncollectable objects (since start)'},
    alloc_count_obj: {label: 'blocks allocated, object domain (since start)'},
    alloc_count_mem: {label: 'blocks allocated, mem domain (since start)'},
    alloc_count_raw: {label: 'blocks allocated, raw domain (since start)'}
  };
  /* per interval: drawn as marks under the bytes chart */
  var GC_FIELDS = {gc_pauses: 1, gc_pause_us: 1, gc_pause_max_us: 1};
  var PALETTE = ['#5f3dc4', '#d6336c', '#0b7285', '#5c940d', '#e67700', '#364fc7', '#a61e4d', '#087f5b',
                 '#862e9c', '#1864ab', '#c92a2a', '#2b8a3e'];
  var CHART_H = 240, GC_H = 30;

  function has(o, k) { return o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k); }

  /* 1, 2 or 5 times a power of ten, at least x */
  function niceStep(x) {
    if (!(x > 0) || !isFinite(x)) return 1;
    var p = Math.pow(10, Math.floor(Math.log(x) / Math.LN10)), m = x / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function fmtTick(v, step) {
    var digits = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log(step) / Math.LN10 - 1e-9));
    return v.toFixed(digits);
  }

  /* seconds since start, human */
  function fmtSince(s) {
    if (!isFinite(s)) return '?';
    if (Math.abs(s) < 120) return '+' + s.toFixed(Math.abs(s) < 10 ? 3 : 2) + ' s';
    var m = Math.floor(s / 60), r = s - 60 * m;
    if (m < 120) return '+' + m + ' min ' + r.toFixed(1) + ' s';
    return '+' + Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  /* One chart: the shown series over xs (seconds), a legend that shows
   * and hides them, a cursor and tooltip on hover. cfg: {id, title, unit
   * ('bytes' or 'count'), xs, xlabel, every, series: [{key, label,
   * colour, values, shown}], gc: {pauses, us, max} or null}. */
  function lineChart(parent, cfg) {
    var xs = cfg.xs, n = xs.length, series = cfg.series;
    var wrap = h('div', {className: 'chart-wrap', attrs: {id: cfg.id}});
    var legend = h('div', {className: 'legend', attrs: {role: 'group', 'aria-label': cfg.title + ': series'}});
    var holder = h('div', {className: 'chart-box'});
    wrap.appendChild(h('h3', {text: cfg.title}));
    wrap.appendChild(legend);
    wrap.appendChild(holder);
    parent.appendChild(wrap);
    var tip = tipElement();

    function lastValue(s) {
      for (var i = n - 1; i >= 0; i--) if (typeof s.values[i] === 'number') return s.values[i];
      return null;
    }
    function fmtValue(v) {
      if (typeof v !== 'number' || !isFinite(v)) return '?';
      return cfg.unit === 'bytes' ? fmtBytesExact(v) : fmtCount(Math.round(v * 1000) / 1000);
    }

    series.forEach(function (s) {
      var last = lastValue(s);
      var b = h('button', {attrs: {type: 'button', 'data-field': s.key, 'aria-pressed': String(!!s.shown),
                                   title: s.key + (last === null ? '' : ': last ' + fmtValue(last))}},
                h('span', {className: 'sw'}), h('span', {text: s.label}),
                last === null ? null : h('span', {className: 'last', text: cfg.unit === 'bytes' ? fmtBytes(last) : fmtCount(last)}));
      b.firstChild.style.background = s.colour;
      b.addEventListener('click', function () {
        s.shown = !s.shown;
        b.setAttribute('aria-pressed', String(s.shown));
        draw();
      });
      legend.appendChild(b);
    });

    var W = 0, plot = null, state = null;

    function draw() {
      W = Math.max(360, Math.floor(holder.clientWidth || parent.clientWidth || 900));
      var gcOn = cfg.gc && cfg.gc.any;
      var L = 70, R = 16, T = 12, B = 38, PH = CHART_H - T - B, H = CHART_H + (gcOn ? GC_H + 6 : 0);
      var PW = W - L - R;
      var shown = series.filter(function (s) { return s.shown; });

      /* x: seconds, from xmin to xmax */
      var xmin = cfg.x0, xmax = cfg.x0;
      for (var i = 0; i < n; i++) { if (xs[i] < xmin) xmin = xs[i]; if (xs[i] > xmax) xmax = xs[i]; }
      if (!(xmax > xmin)) xmax = xmin + 1;
      var span = xmax - xmin, xdiv = span >= 7200 ? 3600 : span >= 120 ? 60 : 1;
      var xunit = xdiv === 3600 ? 'h' : xdiv === 60 ? 'min' : 's';
      var xstep = niceStep(span / xdiv / 8) * xdiv;
      function px(v) { return L + (v - xmin) / span * PW; }

      /* y: from 0 to a round number above the largest value shown */
      var ymax = 0;
      shown.forEach(function (s) {
        for (var i = 0; i < n; i++) if (typeof s.values[i] === 'number' && s.values[i] > ymax) ymax = s.values[i];
      });
      var ydiv = 1, yunit = cfg.unit === 'bytes' ? 'B' : '';
      if (cfg.unit === 'bytes') {
        var units = ['KiB', 'MiB', 'GiB', 'TiB'];
        for (var k = 0; k < units.length && ymax >= ydiv * 1024; k++) { ydiv *= 1024; yunit = units[k]; }
      }
      var ystep = niceStep((ymax > 0 ? ymax : 1) / ydiv / 5), ytop = Math.max(ystep, Math.ceil(ymax / ydiv / ystep) * ystep);
      function py(v) { return T + PH - v / ydiv / ytop * PH; }

      var root = svg('svg', {'class': 'chart', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                             role: 'img', 'aria-label': cfg.title, 'data-points': String(n)});
      var grid = svg('g', {'class': 'grid'}), axes = svg('g', {'class': 'axis'});
      for (var yv = 0; yv <= ytop + ystep / 2; yv += ystep) {
        var yy = T + PH - yv / ytop * PH;
        grid.appendChild(svg('line', {x1: L, x2: L + PW, y1: yy, y2: yy}));
        axes.appendChild(svg('text', {x: L - 6, y: yy + 4, 'text-anchor': 'end'}, fmtTick(yv, ystep)));
      }
      axes.appendChild(svg('text', {x: 12, y: T + PH / 2, 'text-anchor': 'middle', 'class': 'unit',
                                    transform: 'rotate(-90 12 ' + (T + PH / 2) + ')'}, yunit || 'count'));
      for (var xv = Math.ceil(xmin / xstep) * xstep; xv <= xmax + 1e-9; xv += xstep) {
        var xx = px(xv);
        grid.appendChild(svg('line', {x1: xx, x2: xx, y1: T, y2: T + PH}));
        axes.appendChild(svg('text', {x: xx, y: T + PH + 15, 'text-anchor': 'middle'}, fmtTick(xv / xdiv, xstep / xdiv)));
      }
      axes.appendChild(svg('text', {x: L + PW / 2, y: T + PH + 32, 'text-anchor': 'middle', 'class': 'unit'},
                           cfg.xlabel + ' (' + xunit + ')'));
      axes.appendChild(svg('line', {x1: L, x2: L, y1: T, y2: T + PH, 'class': 'frame'}));
      axes.appendChild(svg('line', {x1: L, x2: L + PW, y1: T + PH, y2: T + PH, 'class': 'frame'}));
      root.appendChild(grid);
      root.appendChild(axes);

      /* the series: one polyline per run of points that have a value */
      shown.forEach(function (s) {
        var g = svg('g', {'class': 'series', 'data-field': s.key, stroke: s.colour, fill: s.colour});
        var run = [];
        function flush() {
          if (!run.length) return;
          g.appendChild(svg('polyline', {points: run.join(' '), fill: 'none', 'data-field': s.key}));
          if (run.length === 1) {
            var xy = run[0].split(',');
            g.appendChild(svg('circle', {cx: xy[0], cy: xy[1], r: 2.5}));
          }
          run = [];
        }
        for (var i = 0; i < n; i++) {
          var v = s.values[i];
          if (typeof v === 'number' && isFinite(v)) run.push(px(xs[i]).toFixed(1) + ',' + py(v).toFixed(1));
          else flush();
        }
        flush();
        root.appendChild(g);
      });
      if (!shown.length) {
        root.appendChild(svg('text', {x: L + PW / 2, y: T + PH / 2, 'text-anchor': 'middle', 'class': 'empty'},
                             'Choose a series above to draw it.'));
      }

      /* gc pauses: a bar per point whose interval had any, as tall as
       * the time paused */
      if (gcOn) {
        var gy = T + PH + B + 2, gmax = 0, gc = cfg.gc;
        for (var j = 0; j < n; j++) if (num(gc.us[j]) > gmax) gmax = num(gc.us[j]);
        var strip = svg('g', {'class': 'gc'});
        strip.appendChild(svg('rect', {x: L, y: gy, width: PW, height: GC_H, 'class': 'gc-strip'}));
        strip.appendChild(svg('text', {x: L - 6, y: gy + GC_H / 2 + 4, 'text-anchor': 'end'}, 'gc'));
        for (var m = 0; m < n; m++) {
          if (!(num(gc.pauses[m]) > 0 || num(gc.us[m]) > 0)) continue;
          var bh = Math.max(2, gmax > 0 ? num(gc.us[m]) / gmax * (GC_H - 2) : GC_H - 2);
          strip.appendChild(svg('rect', {x: (px(xs[m]) - 1.5).toFixed(1), y: (gy + GC_H - bh).toFixed(1), width: 3,
                                         height: bh.toFixed(1), 'class': 'gc-mark', 'data-i': String(m)}));
        }
        root.appendChild(strip);
      }

      /* hover: the nearest point in time */
      var cursor = svg('line', {x1: -10, x2: -10, y1: T, y2: T + PH, 'class': 'cursor', visibility: 'hidden'});
      var dots = svg('g', {'class': 'dots', visibility: 'hidden'});
      var over = svg('rect', {x: L, y: T, width: PW, height: H - T, 'class': 'overlay'});
      root.appendChild(cursor);
      root.appendChild(dots);
      root.appendChild(over);
      holder.textContent = '';
      holder.appendChild(root);
      plot = root;
      state = {px: px, py: py, cursor: cursor, dots: dots, shown: shown};
    }

    function nearest(xsec) {
      var best = -1, bd = Infinity;
      for (var i = 0; i < n; i++) {
        var d = Math.abs(xs[i] - xsec);
        if (d < bd) { bd = d; best = i; }
      }
      return best;
    }

    function hover(ev) {
      var r = plot.getBoundingClientRect();
      var mx = ev.clientX - r.left;
      /* invert px(): the time under the mouse */
      var lo = state.px(0), hi = state.px(1);
      var i = nearest((mx - lo) / (hi - lo));
      if (i < 0) return;
      var cx = state.px(xs[i]);
      state.cursor.setAttribute('x1', cx);
      state.cursor.setAttribute('x2', cx);
      state.cursor.setAttribute('visibility', 'visible');
      state.dots.textContent = '';
      tip.textContent = '';
      tip.appendChild(h('div', {className: 'tip-name', text: fmtSince(xs[i]) + (cfg.abs ? '  ' + fmtTime(cfg.abs(i)) : '')}));
      state.shown.forEach(function (s) {
        var v = s.values[i];
        if (typeof v !== 'number') return;
        state.dots.appendChild(svg('circle', {cx: cx, cy: state.py(v), r: 3.5, fill: s.colour}));
        tip.appendChild(h('div', {className: 'tip-row', attrs: {'data-field': s.key}}, h('span', {className: 'sw'}),
                          s.label + ': ' + fmtValue(v)));
        tip.lastChild.firstChild.style.background = s.colour;
      });
      if (cfg.gc && cfg.gc.any && (num(cfg.gc.pauses[i]) > 0 || num(cfg.gc.us[i]) > 0)) {
        tip.appendChild(h('div', {text: 'gc: ' + plural(num(cfg.gc.pauses[i]), 'collection') + ', ' +
          fmtUs(num(cfg.gc.us[i])) + ' paused' + (typeof cfg.gc.max[i] === 'number' ? ' (longest ' + fmtUs(cfg.gc.max[i]) + ')' : '')}));
      }
      if (cfg.every > 1) tip.appendChild(h('div', {className: 'tip-note', text: 'the largest of ' + cfg.every + ' points'}));
      state.dots.setAttribute('visibility', 'visible');
      wrap.setAttribute('data-hover', String(i));
      placeTip(tip, ev);
    }

    holder.addEventListener('mousemove', function (ev) {
      if (plot && ev.target.getAttribute && ev.target.getAttribute('class') === 'overlay') hover(ev);
    });
    holder.addEventListener('mouseleave', function () {
      tip.hidden = true;
      if (state) {
        state.cursor.setAttribute('visibility', 'hidden');
        state.dots.setAttribute('visibility', 'hidden');
      }
      wrap.removeAttribute('data-hover');
    });
    draw();
    return {draw: draw};
  }

  function renderTimeline(sec, mem) {
    var t = Array.isArray(mem.t) ? mem.t : [];
    var fields = mem.fields && typeof mem.fields === 'object' ? mem.fields : {};
    var n = t.length, points = num(mem.points), every = Math.max(1, num(mem.every));
    var notes = [];
    if (num(mem.skipped)) {
      notes.push(h('p', {className: 'note warn', text: plural(num(mem.skipped), 'loong_mem line') +
        ' of metrics.lp could not be read (malformed, or cut short): left out.'}));
    }
    if (num(mem.other_pid)) {
      notes.push(h('p', {className: 'note warn', text: 'metrics.lp also holds ' +
        plural(num(mem.other_pid), 'loong_mem point') + ' of other processes: left out.'}));
    }
    if (mem.pid !== null && mem.pid !== undefined && meta.pid !== undefined && str(mem.pid) !== str(meta.pid)) {
      notes.push(h('p', {className: 'note warn', text: 'These points are of process ' + str(mem.pid) +
        ', not of this folder\'s process (' + str(meta.pid) + ').'}));
    }
    if (num(mem.fields_dropped)) {
      notes.push(h('p', {className: 'note', text: 'Fields past the first 64 names are left out.'}));
    }
    if (!n) {
      sec.appendChild(h('p', {className: 'note', text: 'No loong_mem point of metrics.lp could be read.'}));
      notes.forEach(function (e) { sec.appendChild(e); });
      return;
    }
    var t0 = +mem.t0_ms, start = parseIso(meta.start);
    var fromStart = isFinite(start) && isFinite(t0) && start <= t0 + 1;
    var base = fromStart ? start : (isFinite(t0) ? t0 : 0);
    var xs = t.map(function (v) { return ((isFinite(t0) ? t0 : 0) + num(v) - base) / 1000; });
    var interval = num(meta.interval_ms);
    sec.appendChild(h('p', {className: 'note', attrs: {id: 'mem-points'}, text: fmtCount(points) + ' loong_mem point' +
      (points === 1 ? '' : 's') + ' in metrics.lp' + (interval ? ' (one every ' + fmtUs(interval * 1000) + ')' : '') +
      (every > 1 ? ', drawn as ' + fmtCount(n) + ': each drawn point is the largest of ' + every +
        ' consecutive ones (gc pauses: their sum)' : '') +
      '. Hover over a chart to read the values at a time; click a name to show or hide its line.'}));
    notes.forEach(function (e) { sec.appendChild(e); });

    function values(k) {
      var v = Array.isArray(fields[k]) ? fields[k] : [];
      var out = new Array(n);
      for (var i = 0; i < n; i++) out[i] = typeof v[i] === 'number' && isFinite(v[i]) ? v[i] : null;
      return out;
    }
    /* known fields first, in MEM_FIELDS order; then the others as found */
    var keys = Object.keys(MEM_FIELDS).filter(function (k) { return has(fields, k); });
    Object.keys(fields).forEach(function (k) { if (!has(MEM_FIELDS, k) && !has(GC_FIELDS, k)) keys.push(k); });
    var bytes = [], counts = [], extra = 0;
    keys.forEach(function (k) {
      var known = has(MEM_FIELDS, k) ? MEM_FIELDS[k] : null;
      var s = {key: k, label: known ? known.label : k, colour: known && known.colour ? known.colour
               : PALETTE[extra++ % PALETTE.length], values: values(k), shown: !!(known && known.shown)};
      (/(^|_)bytes(_|$)/.test(k) ? bytes : counts).push(s);
    });
    if (counts.length && !counts.some(function (s) { return s.shown; })) counts[0].shown = true;
    if (bytes.length && !bytes.some(function (s) { return s.shown; })) bytes[0].shown = true;
    var gc = {pauses: values('gc_pauses'), us: values('gc_pause_us'), max: values('gc_pause_max_us'), any: false};
    for (var i = 0; i < n; i++) if (gc.pauses[i] > 0 || gc.us[i] > 0) gc.any = true;
    var xlabel = fromStart ? 'time since start' : 'time since the first point';
    var abs = isFinite(t0) ? function (i) { return t0 + num(t[i]); } : null;
    var charts = [];
    if (bytes.length) {
      charts.push(lineChart(sec, {id: 'mem-bytes', title: 'Sizes in bytes' + (gc.any ? ', gc pauses' : ''), unit: 'bytes', xs: xs,
                                  x0: fromStart ? 0 : xs[0], xlabel: xlabel, every: every, series: bytes, gc: gc, abs: abs}));
    }
    if (counts.length) {
      charts.push(lineChart(sec, {id: 'mem-counts', title: 'Counts: Python heap and gc', unit: 'count', xs: xs,
                                  x0: fromStart ? 0 : xs[0], xlabel: xlabel, every: every, series: counts,
                                  gc: bytes.length ? null : gc, abs: abs}));
    }
    window.addEventListener('resize', debounce(function () {
      charts.forEach(function (c) { c.draw(); });
    }, 150));
  }

  /* Leak candidates: the functions that allocated the most bytes still
   * alive at the end, from mem.live.collapsed (a function's own: the
   * innermost frame of the stacks; with callees: every stack under it,
   * counted once under recursion), next to what they allocated in all
   * (mem.alloc.collapsed). */
  var MAX_LEAKS = 25;

  function selfByName(f) {
    var names = Array.isArray(f.names) ? f.names : [], nidx = f.n || [], depth = f.d || [], val = f.v || [];
    var N = Math.min(nidx.length, depth.length, val.length);
    var self = new Float64Array(names.length), incl = new Float64Array(names.length);
    var onPath = new Uint32Array(names.length), path = [];
    for (var i = 1; i < N; i++) {
      var d = depth[i];
      while (path.length && depth[path[path.length - 1]] >= d) onPath[nidx[path.pop()]]--;
      if (path.length && path[path.length - 1] > 0) self[nidx[path[path.length - 1]]] -= val[i];
      self[nidx[i]] += val[i];
      if (!onPath[nidx[i]]) incl[nidx[i]] += val[i];
      onPath[nidx[i]]++;
      path.push(i);
    }
    return {names: names, self: self, incl: incl, total: N ? val[0] : 0};
  }

  function renderLeaks(sec, live, alloc) {
    var l = selfByName(live), a = alloc ? selfByName(alloc) : null;
    var allocOf = {};
    if (a) a.names.forEach(function (nm, k) { allocOf['$' + nm] = a.self[k]; });
    var rows = [];
    l.names.forEach(function (nm, k) { if (l.self[k] > 0) rows.push(k); });
    rows.sort(function (x, y) { return l.self[y] - l.self[x] || x - y; });
    sec.appendChild(h('h3', {text: 'Leak candidates'}));
    if (!rows.length) {
      sec.appendChild(h('p', {className: 'note', text: 'No sampled block was still alive at the end.'}));
      return;
    }
    sec.appendChild(h('p', {className: 'note', text: 'The functions that allocated the most bytes still alive at ' +
      'the end, of ' + fmtBytes(l.total) + ' in all (estimated from sampled allocations)' +
      (rows.length > MAX_LEAKS ? '; the first ' + MAX_LEAKS + ' of ' + fmtCount(rows.length) : '') +
      '. Click one to find it in the flame graph of live bytes.'}));
    var table = h('table', {className: 'data', attrs: {id: 'leaks-table'}});
    var cols = [['function', ''], ['live bytes', 'estimated bytes allocated by the function itself and still alive at the end'],
                ['share', 'of all live bytes sampled'],
                ['with callees', 'live bytes allocated by the function and what it called']];
    if (a) cols.push(['allocated', 'estimated bytes the function itself allocated over the whole run']);
    var head = h('tr');
    cols.forEach(function (c, k) { head.appendChild(h('th', {text: c[0], title: c[1], className: k ? 'num' : '', attrs: {scope: 'col'}})); });
    var tbody = h('tbody');
    rows.slice(0, MAX_LEAKS).forEach(function (k) {
      var nm = str(l.names[k]);
      var tr = h('tr', {className: 'clickable', attrs: {'data-name': nm, tabindex: '0'}},
        h('td', {text: nm}),
        h('td', {className: 'num', text: fmtBytes(l.self[k]), title: fmtBytesExact(l.self[k])}),
        h('td', {className: 'num', text: fmtPct(l.self[k] / l.total)}),
        h('td', {className: 'num', text: fmtBytes(l.incl[k]), title: fmtBytesExact(l.incl[k])}),
        a ? h('td', {className: 'num', text: has(allocOf, '$' + nm) ? fmtBytes(allocOf['$' + nm]) : '',
                     title: has(allocOf, '$' + nm) ? fmtBytesExact(allocOf['$' + nm]) : ''}) : null);
      tr.setAttribute('data-live', String(l.self[k]));
      function go() {
        if (flameControl && flameControl.show('mem_live', nm)) {
          var fl = document.getElementById('flame');
          if (fl && fl.scrollIntoView) fl.scrollIntoView({block: 'start'});
        }
      }
      tr.addEventListener('click', go);
      tr.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') go(); });
      tbody.appendChild(tr);
    });
    table.appendChild(h('thead', null, head));
    table.appendChild(tbody);
    sec.appendChild(h('div', {className: 'table-wrap'}, table));
  }

  function renderMemory(sec) {
    var drawn = false;
    if (present('memory')) {
      renderTimeline(sec, sections.memory);
      drawn = true;
    }
    if (present('mem_live')) {
      renderLeaks(sec, sections.mem_live, present('mem_alloc') ? sections.mem_alloc : null);
      drawn = true;
    }
    if (!drawn) {
      var sink = str(meta.sink);
      sec.appendChild(h('p', {className: 'note', text: 'The mem toolkit ran, but metrics.lp holds no loong_mem ' +
        'point' + (sink && sink !== 'dir' ? ': the points went to the sink ' + sink + '.' : '.') +
        ' Profile with -t mem:alloc=yes for where memory is allocated.'}));
    }
  }

  /* ---- sections ----------------------------------------------------- */

  function functionToolkitRan() {
    return !!toolkit('function') || 'flame' in sections || 'functions' in sections;
  }

  /* In page order. `has`: drawn when it says so (else: when the data of
   * its id is there); `always`: drawn even without data, when it says so. */
  var SECTIONS = [
    {id: 'flame', title: 'Flame graph', render: renderFlame,
     has: function () { return FLAMES.some(function (k) { return present(k.id); }); }},
    {id: 'functions', title: 'Functions', render: renderTable},
    {id: 'slow', title: 'Slow calls', render: renderSlow, always: functionToolkitRan},
    {id: 'memory', title: 'Memory', render: renderMemory,
     has: function () { return present('memory') || present('mem_live'); },
     always: function () { return !!toolkit('mem'); }},
    {id: 'exceptions', title: 'Exceptions', render: renderExceptions,
     always: function () { return !!toolkit('exception'); }}
  ];
  /* data drawn inside another section */
  var INSIDE = {mem_alloc: 'flame', mem_live: 'flame'};

  function main() {
    renderHeader();
    var page = document.getElementById('sections'), toc = document.getElementById('toc');
    var known = {};
    Object.keys(INSIDE).forEach(function (id) { known[id] = true; });
    SECTIONS.forEach(function (s) {
      known[s.id] = true;
      var has = s.has ? s.has() : Object.prototype.hasOwnProperty.call(sections, s.id);
      if (!has && !(s.always && s.always())) return;
      var sec = h('section', {attrs: {id: s.id, 'aria-labelledby': s.id + '-title'}},
                  h('h2', {text: s.title, attrs: {id: s.id + '-title'}}));
      page.appendChild(sec);
      toc.appendChild(h('a', {text: s.title, attrs: {href: '#' + s.id}}));
      try {
        s.render(sec, Object.prototype.hasOwnProperty.call(sections, s.id) ? sections[s.id] : undefined);
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
