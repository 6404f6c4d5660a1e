//! The loader layer: owns files and memory maps, finds separate debug files,
//! decompresses compressed debug sections, and hands out [`Context`]s.
#![allow(unsafe_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use object::{Object, ObjectSection};

use super::{Context, Error};

/// Where to look for separate debug files.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Global debug directories (`/usr/lib/debug` by default), searched for
    /// `.build-id/xx/yyyy.debug` and for `.gnu_debuglink` targets.
    pub debug_dirs: Vec<PathBuf>,
    /// Follow `.build-id` and `.gnu_debuglink` when the object has no DWARF.
    pub separate_debug: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            debug_dirs: vec![PathBuf::from("/usr/lib/debug")],
            separate_debug: true,
        }
    }
}

struct Mapped {
    path: PathBuf,
    map: Mmap,
}

/// An object file (executable or shared object) opened for symbolization,
/// with its separate debug file if one was found.
pub struct Module {
    main: Mapped,
    debug: Option<Mapped>,
    /// Decompressed copies of compressed DWARF sections (by `SectionId` name).
    decompressed: Decompressed,
    /// The `dwz` supplementary file named by `.gnu_debugaltlink`, with its
    /// decompressed sections.
    alt: Option<(Mapped, Decompressed)>,
    has_dwarf: bool,
    build_id: Option<Vec<u8>>,
    /// Where `.debug_line` lies in a file mapping: (in the debug file?,
    /// offset, length); `None` when it was decompressed into memory.
    line_pages: Option<(bool, usize, usize)>,
}

/// Decompressed copies of compressed DWARF sections of one file.
type Decompressed = Vec<(gimli::SectionId, Vec<u8>)>;

const DWARF_IDS: &[gimli::SectionId] = &[
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugAranges,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugRanges,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
];

fn map_file(path: &Path) -> Result<Mapped, Error> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: the map is read-only and private. Like every symbolizer that
    // maps its input, we assume the file is not truncated or rewritten while
    // we read it; a concurrent truncation could raise SIGBUS.
    let map = unsafe { Mmap::map(&file) }.map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Mapped {
        path: path.to_path_buf(),
        map,
    })
}

fn parse<'a>(m: &'a Mapped) -> Result<object::File<'a>, Error> {
    object::File::parse(&*m.map).map_err(|source| Error::Object {
        path: m.path.clone(),
        source,
    })
}

fn has_debug_info(obj: &object::File<'_>) -> bool {
    obj.section_by_name(".debug_info")
        .is_some_and(|s| s.size() > 0 && s.kind() != object::SectionKind::UninitializedData)
}

impl Module {
    /// Opens an object with the default [`LoadOptions`].
    pub fn open(path: impl AsRef<Path>) -> Result<Module, Error> {
        Module::open_with(path, &LoadOptions::default())
    }

    /// Opens an object, looking for its separate debug file if it has no
    /// DWARF of its own.
    pub fn open_with(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Module, Error> {
        let path = path.as_ref();
        let main = map_file(path)?;
        let obj = parse(&main)?;
        let build_id = obj.build_id().ok().flatten().map(<[u8]>::to_vec);
        let mut debug = None;
        if !has_debug_info(&obj) && opts.separate_debug {
            debug = find_debug_file(path, &obj, build_id.as_deref(), opts);
        }
        let dobj = match &debug {
            Some(d) => Some(parse(d)?),
            None => None,
        };
        let dwarf_obj = dobj.as_ref().unwrap_or(&obj);
        let has_dwarf = has_debug_info(dwarf_obj)
            || dwarf_obj
                .section_by_name(".debug_line")
                .is_some_and(|s| s.size() > 0);
        let mut decompressed = Vec::new();
        if has_dwarf {
            for &id in DWARF_IDS {
                if let Some(s) = dwarf_obj.section_by_name(id.name()) {
                    let data = s.uncompressed_data().map_err(|source| Error::Object {
                        path: debug.as_ref().map_or(&main.path, |d| &d.path).clone(),
                        source,
                    })?;
                    if let std::borrow::Cow::Owned(v) = data {
                        decompressed.push((id, v));
                    }
                }
            }
        }
        let line_pages = if decompressed
            .iter()
            .any(|(id, _)| *id == gimli::SectionId::DebugLine)
        {
            None
        } else {
            dwarf_obj
                .section_by_name(".debug_line")
                .and_then(|sec| sec.file_range())
                .and_then(|(off, len)| {
                    Some((
                        debug.is_some(),
                        usize::try_from(off).ok()?,
                        usize::try_from(len).ok()?,
                    ))
                })
        };
        let mut alt = None;
        if has_dwarf && let Some((name, id)) = debug_altlink(dwarf_obj) {
            let from = debug.as_ref().map_or(&main.path, |d| &d.path).clone();
            let m = find_alt_file(&from, &name, &id, opts).ok_or_else(|| Error::Io {
                path: from.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "the dwz supplementary file {} (.gnu_debugaltlink, build-id {}) was not found",
                        name.display(),
                        super::hex(&id)
                    ),
                ),
            })?;
            let aobj = parse(&m)?;
            let mut adec = Vec::new();
            for &sid in DWARF_IDS {
                if let Some(s) = aobj.section_by_name(sid.name()) {
                    let data = s.uncompressed_data().map_err(|source| Error::Object {
                        path: m.path.clone(),
                        source,
                    })?;
                    if let std::borrow::Cow::Owned(v) = data {
                        adec.push((sid, v));
                    }
                }
            }
            drop(aobj);
            alt = Some((m, adec));
        }
        drop(dobj);
        drop(obj);
        Ok(Module {
            main,
            debug,
            decompressed,
            alt,
            has_dwarf,
            build_id,
            line_pages,
        })
    }

    /// Opens an object and checks that its build-id is `expected`.
    pub fn open_verified(
        path: impl AsRef<Path>,
        opts: &LoadOptions,
        expected: &[u8],
    ) -> Result<Module, Error> {
        let m = Module::open_with(path.as_ref(), opts)?;
        if m.build_id.as_deref() != Some(expected) {
            return Err(Error::BuildIdMismatch {
                path: path.as_ref().to_path_buf(),
                expected: super::hex(expected),
                found: m.build_id.as_deref().map(super::hex),
            });
        }
        Ok(m)
    }

    /// The path of the object.
    pub fn path(&self) -> &Path {
        &self.main.path
    }

    /// The path of the separate debug file in use, if any.
    pub fn debug_path(&self) -> Option<&Path> {
        self.debug.as_ref().map(|d| d.path.as_path())
    }

    /// The object's GNU build-id, if it has one.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }

    /// Whether DWARF is available (in the object or its debug file).
    pub fn has_dwarf(&self) -> bool {
        self.has_dwarf
    }

    /// Builds a symbolization context borrowing from this module.
    pub fn context<'a>(&'a self) -> Result<Context<'a>, Error> {
        let obj = parse(&self.main)?;
        let dobj = match &self.debug {
            Some(d) => Some(parse(d)?),
            None => None,
        };
        let decompressed = &self.decompressed;
        let section = |id: gimli::SectionId| -> &[u8] {
            if let Some((_, v)) = decompressed.iter().find(|(i, _)| *i == id) {
                return v.as_slice();
            }
            let src = dobj.as_ref().unwrap_or(&obj);
            src.section_by_name(id.name())
                .and_then(|s| s.data().ok())
                .unwrap_or(&[])
        };
        let has_dwarf = self.has_dwarf;
        let main_obj = parse(&self.main)?;
        let debug_obj = match &self.debug {
            Some(d) => Some(parse(d)?),
            None => None,
        };
        let alt_obj = match &self.alt {
            Some((m, _)) => Some(parse(m)?),
            None => None,
        };
        let alt_section = |id: gimli::SectionId| -> &'a [u8] {
            let Some((_, dec)) = &self.alt else {
                return &[];
            };
            if let Some((_, v)) = dec.iter().find(|(i, _)| *i == id) {
                return v.as_slice();
            }
            alt_obj
                .as_ref()
                .and_then(|o| o.section_by_name(id.name()))
                .and_then(|s| s.data().ok())
                .unwrap_or(&[])
        };
        let sup: Option<&dyn Fn(gimli::SectionId) -> &'a [u8]> = if self.alt.is_some() {
            Some(&alt_section)
        } else {
            None
        };
        let mut ctx = Context::with_sup(main_obj, debug_obj, has_dwarf, section, sup)?;
        ctx.set_line_pages_release(Box::new(move || self.release_line_pages()));
        Ok(ctx)
    }

    /// Gives the memory pages of `.debug_line` back to the kernel (they stay
    /// in the page cache, and come back transparently when read again). A
    /// unit's line program is read once into the `addr2line` crate's rows
    /// and once for discriminators; releasing its pages afterwards keeps
    /// them out of the peak resident set.
    pub fn release_line_pages(&self) {
        let Some((in_debug, off, len)) = self.line_pages else {
            return;
        };
        let map = match (in_debug, &self.debug) {
            (true, Some(d)) => &d.map,
            (false, _) => &self.main.map,
            (true, None) => return,
        };
        let Some(end) = off.checked_add(len).filter(|&e| e <= map.len()) else {
            return;
        };
        let base = map.as_ptr() as usize;
        let page = 4096usize;
        // Whole pages inside the section only: neighbours stay untouched.
        let start = (base + off).div_ceil(page) * page;
        let stop = (base + end) / page * page;
        if stop <= start {
            return;
        }
        // SAFETY: [start, stop) lies inside `map`, our private read-only
        // (PROT_READ, never written, so never copied on write) mapping of a
        // file. MADV_DONTNEED on such a mapping only drops the page-table
        // entries: the next read faults the same file contents back in, so
        // every slice borrowed from the map stays valid and unchanged.
        unsafe {
            libc::madvise(
                start as *mut libc::c_void,
                stop - start,
                libc::MADV_DONTNEED,
            );
        }
    }

    /// The path of the `dwz` supplementary file in use, if any.
    pub fn alt_path(&self) -> Option<&Path> {
        self.alt.as_ref().map(|(m, _)| m.path.as_path())
    }
}

/// The file name and build-id of a `.gnu_debugaltlink` section.
fn debug_altlink(obj: &object::File<'_>) -> Option<(PathBuf, Vec<u8>)> {
    let data = obj.section_by_name(".gnu_debugaltlink")?.data().ok()?;
    let nul = data.iter().position(|&b| b == 0)?;
    let name = std::str::from_utf8(&data[..nul]).ok()?;
    let id = data[nul + 1..].to_vec();
    (!name.is_empty() && !id.is_empty()).then(|| (PathBuf::from(name), id))
}

/// Finds the `dwz` supplementary file: the named path (relative to the
/// directory of the file holding the link), then the build-id directory
/// of each debug directory. Its build-id must match.
fn find_alt_file(from: &Path, name: &Path, id: &[u8], opts: &LoadOptions) -> Option<Mapped> {
    let dir = from.parent().unwrap_or(Path::new("."));
    let mut candidates = vec![dir.join(name)];
    if id.len() >= 2 {
        let hex = super::hex(id);
        for d in &opts.debug_dirs {
            candidates.push(
                d.join(".build-id")
                    .join(&hex[..2])
                    .join(format!("{}.debug", &hex[2..])),
            );
        }
    }
    for c in candidates {
        if let Ok(m) = map_file(&c)
            && let Ok(o) = parse(&m)
            && o.build_id().ok().flatten() == Some(id)
        {
            drop(o);
            return Some(m);
        }
    }
    None
}

fn find_debug_file(
    path: &Path,
    obj: &object::File<'_>,
    build_id: Option<&[u8]>,
    opts: &LoadOptions,
) -> Option<Mapped> {
    if let Some(id) = build_id.filter(|id| id.len() >= 2) {
        let hex = super::hex(id);
        for dir in &opts.debug_dirs {
            let p = dir
                .join(".build-id")
                .join(&hex[..2])
                .join(format!("{}.debug", &hex[2..]));
            if let Ok(m) = map_file(&p)
                && let Ok(o) = parse(&m)
                && o.build_id().ok().flatten() == Some(id)
                && has_debug_info(&o)
            {
                drop(o);
                return Some(m);
            }
        }
    }
    let (name, crc) = obj.gnu_debuglink().ok().flatten()?;
    let name = std::str::from_utf8(name).ok()?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let abs_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut candidates = vec![dir.join(name), dir.join(".debug").join(name)];
    for d in &opts.debug_dirs {
        let rel = abs_dir.strip_prefix("/").unwrap_or(&abs_dir);
        candidates.push(d.join(rel).join(name));
        candidates.push(d.join(name));
    }
    let me = std::fs::canonicalize(path).ok();
    for c in candidates {
        if me.is_some() && std::fs::canonicalize(&c).ok() == me {
            continue;
        }
        if let Ok(m) = map_file(&c)
            && crc32(&m.map) == crc
        {
            return Some(m);
        }
    }
    None
}

/// The CRC-32 (IEEE) used by `.gnu_debuglink`.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_known_value() {
        assert_eq!(super::crc32(b"123456789"), 0xcbf4_3926);
    }
}
