/* Tables that read at every width: the small behaviour that CSS cannot give (book.css does the rest).
 *
 * - Tables that hold mostly text (three columns or more, cells of 20 characters or more on average)
 *   are marked to become one card per row on a phone (class cards-on-phone), each cell labelled
 *   with its column's name; tables of numbers stay tables and scroll sideways, and so does a table
 *   with the class no-cards.
 * - A search box for every table marked data-search (tracking_evidence.site.tables.html_table): typing
 *   keeps the rows that contain every word typed, and says how many are shown.
 * - A one-line hint above a table (or a figure, on a phone) that is wider than its box ("scroll
 *   sideways"), kept up to date
 *   when the window is resized; the box can be scrolled from the keyboard.
 * - Printing opens every folded table (and puts the folds back afterwards).
 * - Inside table cells, a number with a hyphen or a dash in it (a date, a range: 2026-11-26,
 *   0.03-0.10) is kept on one line: browsers would break it after the hyphen.
 *
 * Plain JavaScript, no library, nothing fetched.
 */
(function () {
  "use strict";

  function rowsOf(table) {
    return Array.prototype.slice.call(table.tBodies.length ? table.tBodies[0].rows : table.rows);
  }

  function addSearch(table) {
    var rows = rowsOf(table);
    var tools = document.createElement("div");
    tools.className = "table-tools";
    var label = document.createElement("label");
    label.textContent = "Search the rows: ";
    var input = document.createElement("input");
    input.type = "search";
    var count = document.createElement("span");
    count.className = "table-count";
    count.setAttribute("aria-live", "polite");
    label.appendChild(input);
    tools.appendChild(label);
    tools.appendChild(count);
    var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });

    function update() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var match = words.every(function (word) { return texts[i].indexOf(word) !== -1; });
        row.classList.toggle("table-row-hidden", !match);
        if (match) shown += 1;
      });
      count.textContent = shown + " of " + rows.length + " rows";
    }

    input.addEventListener("input", update);
    update();
    var box = table.closest(".table-scroll") || table;
    box.parentNode.insertBefore(tools, box);
  }

  var MIN_COLUMNS = 3, MIN_MEAN_LENGTH = 20;
  var NUMBER_WITH_DASH = /\S*\d[-\u2013]\d\S*/g;

  function keepNumbersWhole(cell) {
    var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    var nodes = [];
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      NUMBER_WITH_DASH.lastIndex = 0;
      if (NUMBER_WITH_DASH.test(node.nodeValue) && !node.parentElement.closest(".nobreak, mjx-container, script")) {
        nodes.push(node);
      }
    }
    nodes.forEach(function (node) {
      var text = node.nodeValue, fragment = document.createDocumentFragment(), last = 0, match;
      NUMBER_WITH_DASH.lastIndex = 0;
      while ((match = NUMBER_WITH_DASH.exec(text)) !== null) {
        fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
        var whole = document.createElement("span");
        whole.className = "nobreak";
        whole.textContent = match[0];
        fragment.appendChild(whole);
        last = match.index + match[0].length;
      }
      fragment.appendChild(document.createTextNode(text.slice(last)));
      node.parentNode.replaceChild(fragment, node);
    });
  }

  function headerNames(table) {
    if (!table.tHead || table.tHead.rows.length !== 1) return null;
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i += 1) if (cells[i].colSpan > 1 || cells[i].rowSpan > 1) return null;
    return Array.prototype.map.call(cells, function (cell) { return cell.textContent.trim(); });
  }

  function labelCells(table, names) {
    rowsOf(table).forEach(function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, i) {
        if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", names[i] || "");
      });
    });
  }

  function holdsText(table, names) {
    var rows = rowsOf(table), cells = 0, characters = 0;
    for (var r = 0; r < rows.length; r += 1) {
      if (rows[r].cells.length !== names.length) return false;  // spanning cells: leave it a table
      Array.prototype.forEach.call(rows[r].cells, function (cell) {
        if (cell.colSpan > 1 || cell.rowSpan > 1) cells = -Infinity;
        cells += 1;
        characters += cell.textContent.trim().length;
      });
    }
    return names.length >= MIN_COLUMNS && cells > 0 && characters / cells >= MIN_MEAN_LENGTH;
  }

  function cardsOnPhone(table) {
    // html_table chose already (cards=True or not); a table with the class no-cards has a layout of its own
    if (table.classList.contains("book-table") || table.classList.contains("no-cards")) return;
    var names = headerNames(table);
    if (names && holdsText(table, names)) {
      labelCells(table, names);
      table.classList.add("cards-on-phone");
    }
  }

  function markScrolling(box, what) {
    var hint = box.previousElementSibling;
    var hasHint = hint && hint.classList.contains("scroll-hint");
    var wide = box.scrollWidth > box.clientWidth + 1;
    if (wide && !hasHint) {
      hint = document.createElement("p");
      hint.className = "scroll-hint";
      hint.textContent = "\u21c6 This " + (what || "table") + " is wider than the page: scroll it sideways.";
      box.parentNode.insertBefore(hint, box);
    } else if (!wide && hasHint) {
      hint.remove();
    }
    if (wide && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");  // scrollable from the keyboard
    }
  }

  function scrollBoxes() {
    var boxes = document.querySelectorAll(
      ".bd-article .table-scroll, .bd-article .pst-scrollable-table-container, .bd-article .cell_output .output.text_html");
    return Array.prototype.filter.call(boxes, function (box) { return box.querySelector("table"); });
  }

  // a figure on a phone is shown at its own size in a frame that scrolls sideways (book.css)
  function figureBoxes() {
    return Array.prototype.filter.call(document.querySelectorAll(".bd-article figure"),
                                       function (figure) { return figure.querySelector("img"); });
  }

  function refreshHints() {
    scrollBoxes().forEach(function (box) { if (box.getClientRects().length) markScrolling(box); });
    figureBoxes().forEach(function (box) { if (box.getClientRects().length) markScrolling(box, "figure"); });
  }

  function setUp() {
    document.querySelectorAll(".bd-article table").forEach(cardsOnPhone);
    document.querySelectorAll(".bd-article td, .bd-article th").forEach(keepNumbersWhole);
    document.querySelectorAll(".bd-article table[data-search]").forEach(addSearch);
    refreshHints();
    document.querySelectorAll(".bd-article figure img").forEach(function (img) {
      if (!img.complete) img.addEventListener("load", refreshHints);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(refreshHints, 150);
    });
    document.querySelectorAll("details.table-fold").forEach(function (fold) {
      fold.addEventListener("toggle", refreshHints);
    });
    var reopened = [];
    window.addEventListener("beforeprint", function () {
      reopened = Array.prototype.filter.call(document.querySelectorAll("details.table-fold"), function (d) { return !d.open; });
      reopened.forEach(function (d) { d.open = true; });
    });
    window.addEventListener("afterprint", function () {
      reopened.forEach(function (d) { d.open = false; });
      reopened = [];
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
