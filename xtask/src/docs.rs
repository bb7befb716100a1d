//! `cargo xtask docs`: the documentation site. Builds the mdBook in
//! `docs/book` into `target/book` with every crate's rustdoc under `api/`,
//! then checks the result: every internal link and anchor resolves, and
//! headless Chromium renders the index, the tutorial and the performance
//! page with their pictures.
//!
//! mdBook is installed into `target/tools` and Chromium from Debian's
//! `chromium` package when they are missing, so a fresh machine needs
//! nothing but the toolchain.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::process::{self, cargo_cmd, run};
use crate::project_root;

/// The mdBook release the book is built with: the last 0.4, whose
/// preprocessor and theme the book is written for.
const MDBOOK_VERSION: &str = "0.4.52";

/// Where Debian's `chromium` package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The pages the browser renders, with the main heading each must show.
const BROWSER_PAGES: [(&str, &str); 3] = [
    ("index.html", "spread"),
    ("tutorial.html", "Tutorial: Copyable and Cacheable"),
    ("performance.html", "Performance"),
];

/// Links rustdoc writes that cannot resolve anywhere, with the reason;
/// every other broken link fails the check.
const KNOWN_BROKEN: [(&str, &str); 2] = [
    (
        "dispatcher#setting-the-default-subscriber",
        "tracing's `WithSubscriber` docs, shown in every type's blanket impls, link relative to tracing's own pages",
    ),
    (
        "all.html",
        "rustdoc's \"All items\" link on a crate re-exported inline as a module (`spread::banana`) points into the module's directory",
    ),
];

/// How long one Chromium run may take before it counts as hung.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

pub(crate) fn run_all() -> Result<()> {
    let started = Instant::now();
    let root = project_root();
    let book = root.join("target/book");
    let mdbook = mdbook()?;

    // The same flags as `ci`'s docs step, so that step's output is reused.
    let mut doc = cargo_cmd(&[
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
        "--locked",
    ]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    run(doc)?;

    // A fresh site: a page left from an earlier build could hide a broken link.
    if book.exists() {
        eprintln!("removing {}", book.display());
        std::fs::remove_dir_all(&book).with_context(|| format!("removing {}", book.display()))?;
    }
    let mut build = Command::new(&mdbook);
    build
        .arg("build")
        .arg(root.join("docs/book"))
        .arg("--dest-dir")
        .arg(&book);
    run(build)?;

    let api = book.join("api");
    eprintln!(
        "copying {} to {}",
        root.join("target/doc").display(),
        api.display()
    );
    copy_dir(&root.join("target/doc"), &api)?;
    write_api_index(&api)?;

    check_links(&book)?;
    check_in_browser(&book)?;
    eprintln!(
        "docs: {} built and checked in {:.0?}; open {}",
        book.display(),
        started.elapsed(),
        book.join("index.html").display()
    );
    Ok(())
}

/// `target/tools/bin/mdbook`, installed first when it is missing or is
/// another version.
fn mdbook() -> Result<PathBuf> {
    let tools = project_root().join("target/tools");
    let mdbook = tools.join("bin/mdbook");
    let installed = Command::new(&mdbook)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned());
    if installed.as_deref() == Some(&format!("mdbook v{MDBOOK_VERSION}")) {
        return Ok(mdbook);
    }
    eprintln!(
        "mdBook {MDBOOK_VERSION} is not in {}; installing it (a few minutes, once)",
        tools.display()
    );
    let tools = tools.to_string_lossy().into_owned();
    // Without the `serve` and `watch` features: no web server, no tokio,
    // half the build time.
    process::cargo(&[
        "install",
        "--locked",
        "mdbook",
        "--version",
        MDBOOK_VERSION,
        "--no-default-features",
        "--features",
        "search",
        "--root",
        &tools,
    ])?;
    Ok(mdbook)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// `api/index.html`: the crates, linked. Cargo writes no index for a
/// workspace, and rustdoc's help and settings pages link to one.
fn write_api_index(api: &Path) -> Result<()> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(api)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("index.html").is_file() && name != "src" {
            crates.push(name);
        }
    }
    crates.sort();
    let items: String = crates
        .iter()
        .map(|c| format!("<li><a href=\"{c}/index.html\">{c}</a></li>\n"))
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>spread: API documentation</title></head>\n<body>\n\
         <h1>spread: API documentation</h1>\n<ul>\n{items}</ul>\n\
         <p><a href=\"../index.html\">The spread book</a></p>\n</body></html>\n"
    );
    std::fs::write(api.join("index.html"), html)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Links.

/// Every `href` and `src` in every HTML page under `site` that points
/// inside the site must name a file that exists, and its `#fragment` an
/// `id` (or `name`) in that file.
fn check_links(site: &Path) -> Result<()> {
    let mut pages = Vec::new();
    html_files(site, &mut pages)?;
    eprintln!(
        "checking the links and anchors of {} pages in {}",
        pages.len(),
        site.display()
    );
    let mut ids: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    let mut broken = Vec::new();
    let mut links = 0;
    for page in &pages {
        let html =
            std::fs::read_to_string(page).with_context(|| format!("reading {}", page.display()))?;
        // rustdoc's source listings are code, whose text may look like markup.
        if page.starts_with(site.join("api/src")) {
            continue;
        }
        for link in attribute_values(&html, &["href", "src"]) {
            let Some((path, fragment)) = internal_target(&link) else {
                continue;
            };
            // rustdoc loads the implementors of each trait from a script
            // that exists only when there are some: optional by design.
            if path.ends_with(".js") && path.contains("trait.impl/") {
                continue;
            }
            if KNOWN_BROKEN.iter().any(|(known, _)| *known == link) {
                continue;
            }
            links += 1;
            let base = page.parent().expect("a page is inside the site");
            let mut target = if path.is_empty() {
                page.clone()
            } else if let Some(absolute) = path.strip_prefix('/') {
                // mdBook's 404 page links the site's root as `/`.
                normalize(&site.join(percent_decode(absolute)))
            } else {
                normalize(&base.join(percent_decode(path)))
            };
            if target.is_dir() {
                target = target.join("index.html");
            }
            // rustdoc leaves a redirecting page at each item's private path.
            if let Some(redirected) = redirect(&target) {
                target = redirected;
            }
            let shown = || {
                format!(
                    "{}: {link}",
                    page.strip_prefix(site).unwrap_or(page).display()
                )
            };
            if !target.starts_with(site) || !target.is_file() {
                broken.push(format!("{} (no such file)", shown()));
                continue;
            }
            let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
                continue;
            };
            if target.extension().is_none_or(|e| e != "html") {
                continue;
            }
            if !ids.contains_key(&target) {
                let text = std::fs::read_to_string(&target)
                    .with_context(|| format!("reading {}", target.display()))?;
                let found = attribute_values(&text, &["id", "name"]).collect();
                ids.insert(target.clone(), found);
            }
            let known = &ids[&target];
            let decoded = percent_decode(fragment);
            // A source listing's `#12-20` highlights lines 12 to 20.
            let lines_known = fragment
                .split_once('-')
                .is_some_and(|(a, b)| known.contains(a) && known.contains(b));
            if !known.contains(fragment) && !known.contains(&decoded) && !lines_known {
                broken.push(format!("{} (no anchor #{fragment})", shown()));
            }
        }
    }
    if !broken.is_empty() {
        bail!(
            "{} broken internal links in {}:\n  {}",
            broken.len(),
            site.display(),
            broken.join("\n  ")
        );
    }
    eprintln!("links: {links} internal links and anchors resolve");
    Ok(())
}

/// Where a rustdoc redirect page (`<meta http-equiv="refresh"
/// content="0;URL=...">`) sends the reader, if `page` is one.
fn redirect(page: &Path) -> Option<PathBuf> {
    if page.extension().is_none_or(|e| e != "html") {
        return None;
    }
    let html = std::fs::read_to_string(page).ok()?;
    if html.len() > 2048 || !html.contains("http-equiv=\"refresh\"") {
        return None;
    }
    let at = html.find("URL=")? + "URL=".len();
    let url = &html[at..at + html[at..].find('"')?];
    let target = normalize(&page.parent()?.join(percent_decode(url)));
    target.is_file().then_some(target)
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            html_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// The values of the attributes `names` in `html`, by plain scanning: an
/// attribute is a name after whitespace, `=`, and a value in double quotes,
/// single quotes, or none (rustdoc's source pages write `id=12`). A value
/// written `\"...\"` is inside a script's string, not markup, and skipped.
fn attribute_values<'a>(html: &'a str, names: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    let bytes = html.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let i = at;
            at += 1;
            if i == 0 || !bytes[i - 1].is_ascii_whitespace() {
                continue;
            }
            let Some(name) = names
                .iter()
                .find(|n| html[i..].starts_with(**n) && bytes.get(i + n.len()) == Some(&b'='))
            else {
                continue;
            };
            let start = i + name.len() + 1;
            let (value, end) = match bytes.get(start) {
                Some(&q @ (b'"' | b'\'')) => match html[start + 1..].find(q as char) {
                    Some(len) => (&html[start + 1..start + 1 + len], start + 2 + len),
                    None => continue,
                },
                Some(b'\\') | None => continue,
                Some(_) => {
                    let len = html[start..]
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .unwrap_or(html.len() - start);
                    (&html[start..start + len], start + len)
                }
            };
            at = end;
            return Some(value.replace("&amp;", "&"));
        }
        None
    })
}

/// The path and fragment of a link into the site, or `None` for a link
/// elsewhere (another scheme, another host, a data URL).
fn internal_target(link: &str) -> Option<(&str, Option<&str>)> {
    let link = link.trim();
    if link.starts_with("//") || link.contains("{{") {
        return None;
    }
    // A scheme is letters before a colon that comes before any slash.
    if let Some(colon) = link.find(':') {
        let scheme = &link[..colon];
        if !scheme.contains(['/', '#', '?']) {
            return None;
        }
    }
    let (link, fragment) = match link.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (link, None),
    };
    let path = link.split_once('?').map_or(link, |(path, _)| path);
    Some((path, fragment))
}

/// `a/b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// The browser.

/// Renders each of [`BROWSER_PAGES`] in headless Chromium: its screenshot
/// must be a PNG well above an empty page's size, and its DOM must show
/// the page's heading and reference only pictures that exist.
fn check_in_browser(site: &Path) -> Result<()> {
    let chromium = chromium()?;
    let scratch = std::env::temp_dir().join(format!("spread-docs-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = (|| {
        // An empty page's screenshot, to tell a rendered page from a blank one.
        let blank_page = scratch.join("blank.html");
        std::fs::write(&blank_page, "<!DOCTYPE html><html><body></body></html>")?;
        let blank = screenshot(&chromium, &scratch, &blank_page, "blank")?;
        for (page, heading) in BROWSER_PAGES {
            let path = site.join(page);
            let name = page.trim_end_matches(".html");
            let png = screenshot(&chromium, &scratch, &path, name)?;
            if png < blank * 4 || png < 20_000 {
                bail!(
                    "{page} renders blank: its screenshot is {png} bytes, an empty page's {blank}"
                );
            }
            let dom = dump_dom(&chromium, &scratch, &path)?;
            check_dom(site, page, heading, &dom)?;
            eprintln!("browser: {page} renders ({png} bytes of PNG; empty page {blank})");
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// `/usr/bin/chromium`, installed with apt-get when it is missing (CI runs
/// as root).
fn chromium() -> Result<PathBuf> {
    let chromium = PathBuf::from(CHROMIUM);
    if chromium.exists() {
        return Ok(chromium);
    }
    eprintln!("{CHROMIUM} is missing; installing Debian's chromium package");
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "chromium"]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run(install)?;
    if !chromium.exists() {
        bail!("apt-get installed chromium, but {CHROMIUM} is still missing");
    }
    Ok(chromium)
}

/// A headless Chromium with a fresh profile, nothing in the background.
fn browser(chromium: &Path, scratch: &Path, profile: &str) -> Result<Command> {
    let profile = scratch.join(format!("profile-{profile}"));
    std::fs::create_dir_all(&profile)?;
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    Ok(cmd)
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Screenshots `page` and returns the PNG's size in bytes.
fn screenshot(chromium: &Path, scratch: &Path, page: &Path, name: &str) -> Result<u64> {
    let png = scratch.join(format!("{name}.png"));
    let mut cmd = browser(chromium, scratch, name)?;
    cmd.arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,1600")
        .arg(file_url(page));
    output_within(cmd, BROWSER_TIMEOUT)?;
    let bytes = std::fs::read(&png)
        .with_context(|| format!("Chromium wrote no screenshot of {}", page.display()))?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        bail!("the screenshot of {} is not a PNG", page.display());
    }
    Ok(bytes.len() as u64)
}

/// The DOM of `page` after its scripts ran.
fn dump_dom(chromium: &Path, scratch: &Path, page: &Path) -> Result<String> {
    let name = page
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut cmd = browser(chromium, scratch, &format!("dom-{name}"))?;
    cmd.arg("--dump-dom").arg(file_url(page));
    let dom = output_within(cmd, BROWSER_TIMEOUT)?;
    if !dom.contains("</html>") {
        bail!("Chromium dumped no DOM for {}", page.display());
    }
    Ok(dom)
}

/// The page's `<h1>` says `heading`, and every picture it shows (`<img
/// src>`, `<object data>`, `<embed src>`) is a file in the site; an SVG
/// must hold an `<svg>` element.
fn check_dom(site: &Path, page: &str, heading: &str, dom: &str) -> Result<()> {
    let headings: Vec<String> = elements(dom, "h1").map(|h1| text_of(&h1)).collect();
    if !headings.iter().any(|h| h == heading) {
        bail!("{page}: no <h1> reading {heading:?} in the rendered page (found {headings:?})");
    }
    let mut pictures = Vec::new();
    for (tag, attribute) in [("img", "src"), ("object", "data"), ("embed", "src")] {
        for element in elements(dom, tag) {
            pictures.extend(attribute_values(&element, &[attribute]));
        }
    }
    if pictures.is_empty() {
        bail!("{page}: the rendered page shows no picture");
    }
    let base = site.join(page);
    let base = base.parent().expect("a page is inside the site");
    for picture in &pictures {
        let Some((path, _)) = internal_target(picture) else {
            bail!("{page}: picture {picture} is not part of the site");
        };
        let file = normalize(&base.join(percent_decode(path)));
        let data = std::fs::read(&file)
            .with_context(|| format!("{page}: picture {picture} is not in the site"))?;
        if file.extension().is_some_and(|e| e == "svg") {
            let text = String::from_utf8_lossy(&data);
            if !text.contains("<svg") || !text.contains("</svg>") {
                bail!("{page}: {picture} is not an SVG picture");
            }
        } else if data.is_empty() {
            bail!("{page}: {picture} is empty");
        }
    }
    Ok(())
}

/// Each `<tag ...>...</tag>` (or lone `<tag ...>`) in `html`, as text.
fn elements<'a>(html: &'a str, tag: &'a str) -> impl Iterator<Item = String> + 'a {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(i) = html[at..].find(&open).map(|i| at + i) {
            at = i + open.len();
            // `<h1` but not `<h10` or `<image`: the tag name must end here.
            match html.as_bytes().get(at) {
                Some(b) if b.is_ascii_whitespace() || *b == b'>' || *b == b'/' => {}
                _ => continue,
            }
            let end = html[at..].find('>').map_or(html.len(), |e| at + e + 1);
            let end = match html[end..].find(&close) {
                Some(c) if !html[end..end + c].contains(&open) => end + c + close.len(),
                _ => end,
            };
            at = end;
            return Some(html[i..end].to_owned());
        }
        None
    })
}

/// The text of an element: its tags dropped, spaces collapsed.
fn text_of(element: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in element.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs `cmd` and returns its standard output; kills it after `limit`.
fn output_within(mut cmd: Command, limit: Duration) -> Result<String> {
    eprintln!("$ {}", process::describe(&cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", process::describe(&cmd)))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{} took over {limit:?}; killed", process::describe(&cmd));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    if !status.success() {
        bail!("{} failed: {status}\n{err}", process::describe(&cmd));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_quoted_single_quoted_and_bare() {
        let html = r#"<a href="a.html#x" id=12 class=c><img src='i.svg'> data-href="no" x=\"y\" href=\"skip\">"#;
        let found: Vec<String> = attribute_values(html, &["href", "src", "id"]).collect();
        assert_eq!(found, ["a.html#x", "12", "i.svg"]);
    }

    #[test]
    fn only_links_into_the_site_are_checked() {
        assert_eq!(
            internal_target("api/spread/index.html#x"),
            Some(("api/spread/index.html", Some("x")))
        );
        assert_eq!(internal_target("#top"), Some(("", Some("top"))));
        assert_eq!(internal_target("a.html?q=1"), Some(("a.html", None)));
        for external in [
            "https://docs.rs",
            "http://x",
            "mailto:a@b",
            "javascript:void(0)",
            "//cdn",
            "data:image/png;base64,AA",
        ] {
            assert_eq!(internal_target(external), None, "{external}");
        }
    }

    #[test]
    fn headings_and_pictures_in_a_dom() {
        let dom = r##"<main><h1 id="x"><a class="header" href="#x">Per&amp;formance</a></h1><image/><img src="images/p.svg" alt="p"></main>"##;
        let h1: Vec<String> = elements(dom, "h1").map(|e| text_of(&e)).collect();
        assert_eq!(h1, ["Per&formance"]);
        let imgs: Vec<String> = elements(dom, "img").collect();
        assert_eq!(imgs, [r#"<img src="images/p.svg" alt="p">"#]);
    }

    #[test]
    fn paths_and_percent_escapes() {
        assert_eq!(normalize(Path::new("/s/a/../b/./c")), Path::new("/s/b/c"));
        assert_eq!(percent_decode("impl-From%3CT%3E"), "impl-From<T>");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
