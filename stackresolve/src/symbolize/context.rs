//! The core layer: symbolization over in-memory sections (no file access).

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use object::{
    Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, SectionFlags, SymbolFlags,
    SymbolSection,
};

use super::Error;

/// The DWARF reader type used throughout.
pub type Reader<'data> = gimli::EndianSlice<'data, gimli::RunTimeEndian>;

/// One source-level frame (innermost first in [`Lookup::frames`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The function name as recorded (linkage name if there is one, so
    /// possibly mangled), or `None` if DWARF has no function here.
    pub function: Option<Cow<'a, str>>,
    /// The source language of the compilation unit, if known.
    pub language: Option<gimli::DwLang>,
    /// The full source file path, if known.
    pub file: Option<Cow<'a, str>>,
    /// The line (0 if unknown).
    pub line: u32,
    /// The column (0 if unknown or the left edge).
    pub column: u32,
    /// The offset of the function's DIE in its compilation unit (see
    /// [`Context::unit_offset`]), when DWARF names a function.
    pub die: Option<u64>,
}

/// A symbol-table match (the fallback when DWARF does not name a function).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolHit<'a> {
    /// The symbol name as in the symbol table.
    pub name: &'a str,
    /// Its address.
    pub address: u64,
    /// Its size (0 if unknown).
    pub size: u64,
    /// The file name of the preceding `STT_FILE` symbol, as binutils picks it.
    pub file: Option<&'a str>,
}

/// The result of looking up one address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookup<'a> {
    /// Whether the address lies inside an allocated section of the object.
    pub in_section: bool,
    /// DWARF frames, innermost first (empty if DWARF knows nothing here).
    pub frames: Vec<Frame<'a>>,
    /// The line-table discriminator of the innermost location (0 if none).
    pub discriminator: u32,
    /// The symbol-table match, computed only when DWARF gave no function name
    /// for the innermost frame.
    pub symbol: Option<SymbolHit<'a>>,
}

impl Lookup<'_> {
    /// Whether anything at all is known about the address.
    pub fn found(&self) -> bool {
        !self.frames.is_empty() || self.symbol.is_some()
    }
}

#[derive(Clone, Copy, Debug)]
struct SectionRange {
    index: usize,
    exec: bool,
    address: u64,
    size: u64,
}

/// A symbol of the table binutils searches, in 32 bytes: the name is looked
/// up by symbol index when a symbol is chosen.
#[derive(Clone, Copy, Debug)]
struct Sym {
    value: u64,
    size: u64,
    /// Index in the symbol table it came from ([`SymbolTable::source`]).
    index: u32,
    /// Index in [`SymbolTable::files`] of its `STT_FILE` name, or `NO_FILE`.
    file: u32,
    section: u32,
    function: bool,
    notype: bool,
}

const NO_FILE: u32 = u32::MAX;

/// Which symbol table the symbols come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SymSource {
    /// `.symtab` of the separate debug file.
    Debug,
    /// `.dynsym` of the object.
    Dynamic,
    /// `.symtab` of the object.
    Static,
}

/// Symbols sorted by (section, value, symbol-table order).
struct SymbolTable<'data> {
    syms: Vec<Sym>,
    source: SymSource,
    files: Vec<&'data str>,
}

type DiscTable = Result<UnitLines, gimli::Error>;

/// What the `addr2line` crate's line lookup does not give: discriminators,
/// and (DWARF 5) the rows binutils attributes to file 0.
struct UnitLines {
    seqs: Vec<DiscSequence>,
    /// The path binutils shows for rows before the first `DW_LNS_set_file`
    /// of a DWARF 5 sequence (it starts from file 0, not 1), when it differs
    /// from file 1's.
    file0: Option<String>,
    /// Whether the unit is a split-DWARF skeleton.
    skeleton: bool,
}

struct DiscSequence {
    start: u64,
    end: u64,
    /// Rows below this address still use the initial file register.
    default_end: u64,
    /// (offset from `start`, discriminator) change points.
    rows: Vec<(u32, u32)>,
}

/// A data symbol at an exact address (binutils looks variables up by it).
type DataSymbols<'data> = HashMap<u64, &'data str>;

/// A variable's name, declaration file and line.
type Variable = (String, String, u32);

/// Symbolization context over one object (and optionally its separate debug
/// file). Not `Sync`: each thread builds its own from a shared
/// [`Module`](super::Module).
pub struct Context<'data> {
    object: object::File<'data>,
    debug_object: Option<object::File<'data>>,
    dwarf: Option<addr2line::Context<Reader<'data>>>,
    raw_dwarf: Option<gimli::Dwarf<Reader<'data>>>,
    variables: OnceCell<HashMap<u64, Vec<Variable>>>,
    data_symbols: OnceCell<DataSymbols<'data>>,
    unit_ranges: OnceCell<Vec<(u64, u64, usize)>>,
    symbol_names: OnceCell<HashMap<&'data str, u64>>,
    demangled_names: OnceCell<HashMap<String, u64>>,
    binutils: bool,
    sections: Vec<SectionRange>,
    symbols: OnceCell<SymbolTable<'data>>,
    discriminators: RefCell<HashMap<usize, Rc<DiscTable>>>,
    scanned_once: RefCell<std::collections::HashSet<usize>>,
    /// Gives the pages of `.debug_line` back after a unit's line program
    /// has been read (see [`Module::release_line_pages`](super::Module::release_line_pages)).
    release_line_pages: Option<Box<dyn Fn() + 'data>>,
    /// The discriminator scan of the first lookup, done beside the crate's
    /// parse.
    prescan: RefCell<Option<Prescan>>,
}

/// [`scan_line_program`]'s answer for one address, computed ahead.
struct Prescan {
    unit: usize,
    addr: u64,
    result: Result<(u32, bool, Option<String>), Error>,
}

/// Finds the unit covering `addr` through `.debug_aranges` and scans its
/// line program up to `addr` (`None` when aranges do not say).
fn prescan(d: &gimli::Dwarf<Reader<'_>>, addr: u64) -> Option<Prescan> {
    let mut headers = d.debug_aranges.headers();
    let mut found = None;
    'outer: while let Ok(Some(h)) = headers.next() {
        let mut entries = h.entries();
        while let Ok(Some(e)) = entries.next() {
            let r = e.range();
            if r.begin <= addr && addr < r.end {
                if found.is_some() {
                    // Claimed twice (COMDAT): let the lookup decide.
                    return None;
                }
                found = Some(h.debug_info_offset());
                continue 'outer;
            }
        }
    }
    let off = found?;
    let header = d.debug_info.header_from_offset(off).ok()?;
    let unit = d.unit(header).ok()?;
    let unit_ref = unit.unit_ref(d);
    Some(Prescan {
        unit: off.0,
        addr,
        result: scan_line_program(&unit_ref, addr),
    })
}

/// Whether binutils 2.40 ignores the unit as a split-DWARF skeleton: a
/// DWARF 5 `DW_UT_skeleton` unit. A DWARF 4 GNU split unit (`-gdwarf-4
/// -gsplit-dwarf`, `DW_AT_GNU_dwo_id`) is an ordinary compile unit to
/// binutils, whose line table it uses.
fn is_skeleton(unit: &gimli::Unit<Reader<'_>>) -> bool {
    matches!(unit.header.type_(), gimli::UnitType::Skeleton(_))
}

/// A `.debug_aranges` range claimed by more than one unit.
const AMBIGUOUS_UNIT: usize = usize::MAX;

const ELF_STT_NOTYPE: u8 = 0;
const ELF_STT_OBJECT: u8 = 1;
const ELF_STT_FUNC: u8 = 2;
const ELF_STT_SECTION: u8 = 3;
const ELF_STT_FILE: u8 = 4;
const ELF_STT_COMMON: u8 = 5;
const ELF_STT_TLS: u8 = 6;
const ELF_STT_GNU_IFUNC: u8 = 10;
const ELF_STV_HIDDEN: u8 = 2;
const ELF_SHF_ALLOC: u64 = 2;
const ELF_SHF_EXECINSTR: u64 = 4;

impl<'data> Context<'data> {
    /// Builds a context from a parsed object (used for sections and symbols)
    /// and a provider of DWARF section contents (already decompressed; an
    /// empty slice for a missing section). `has_dwarf` tells whether any
    /// DWARF is available at all.
    ///
    /// `debug_object` is the separate debug file the DWARF comes from, if
    /// any: like binutils, its symbol table (which keeps the `STT_FILE`
    /// symbols that `strip --strip-debug` removes) is preferred for the
    /// symbol-table fallback.
    pub fn new<F>(
        object: object::File<'data>,
        debug_object: Option<object::File<'data>>,
        has_dwarf: bool,
        section: F,
    ) -> Result<Self, Error>
    where
        F: Fn(gimli::SectionId) -> &'data [u8],
    {
        Self::with_sup(object, debug_object, has_dwarf, section, None)
    }

    /// Like [`Context::new`], with the DWARF sections of a supplementary
    /// object file (the `dwz` multifile named by `.gnu_debugaltlink`), which
    /// `DW_FORM_GNU_ref_alt`/`DW_FORM_GNU_strp_alt` attributes refer to.
    pub fn with_sup<F>(
        object: object::File<'data>,
        debug_object: Option<object::File<'data>>,
        has_dwarf: bool,
        section: F,
        sup: Option<&dyn Fn(gimli::SectionId) -> &'data [u8]>,
    ) -> Result<Self, Error>
    where
        F: Fn(gimli::SectionId) -> &'data [u8],
    {
        let endian = if object.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let load = || -> Result<gimli::Dwarf<Reader<'data>>, gimli::Error> {
            let mut d = gimli::Dwarf::load(|id| -> Result<Reader<'data>, gimli::Error> {
                Ok(gimli::EndianSlice::new(section(id), endian))
            })?;
            if let Some(sup) = sup {
                d.load_sup(|id| -> Result<Reader<'data>, gimli::Error> {
                    Ok(gimli::EndianSlice::new(sup(id), endian))
                })?;
            }
            Ok(d)
        };
        let (dwarf, raw_dwarf) = if has_dwarf {
            (
                Some(addr2line::Context::from_dwarf(load()?)?),
                Some(load()?),
            )
        } else {
            (None, None)
        };
        let mut sections = Vec::new();
        for s in object.sections() {
            let (alloc, exec) = match s.flags() {
                SectionFlags::Elf { sh_flags } => (
                    sh_flags & ELF_SHF_ALLOC != 0,
                    sh_flags & ELF_SHF_EXECINSTR != 0,
                ),
                _ => (s.address() != 0, s.kind() == object::SectionKind::Text),
            };
            if alloc && s.size() > 0 {
                sections.push(SectionRange {
                    index: s.index().0,
                    exec,
                    address: s.address(),
                    size: s.size(),
                });
            }
        }
        Ok(Context {
            object,
            debug_object,
            dwarf,
            raw_dwarf,
            variables: OnceCell::new(),
            data_symbols: OnceCell::new(),
            unit_ranges: OnceCell::new(),
            symbol_names: OnceCell::new(),
            demangled_names: OnceCell::new(),
            binutils: false,
            sections,
            symbols: OnceCell::new(),
            discriminators: RefCell::new(HashMap::new()),
            scanned_once: RefCell::new(std::collections::HashSet::new()),
            release_line_pages: None,
            prescan: RefCell::new(None),
        })
    }

    /// Sets what to call after a unit's line program has been read in full
    /// (the crate's rows and the discriminator table are built from it, so
    /// its mapped pages are no longer needed).
    pub fn set_line_pages_release(&mut self, release: Box<dyn Fn() + 'data>) {
        self.release_line_pages = Some(release);
    }

    fn line_program_read(&self) {
        if let Some(f) = &self.release_line_pages {
            f();
        }
    }

    /// Makes lookups follow binutils where it differs from the best answer:
    /// skeleton units of split DWARF (`-gsplit-dwarf`) are ignored, as
    /// binutils `addr2line` does not read them.
    pub fn set_binutils_compat(&mut self, on: bool) {
        self.binutils = on;
    }

    /// Whether DWARF debugging information is available.
    pub fn has_dwarf(&self) -> bool {
        self.dwarf.is_some()
    }

    /// The underlying object.
    pub fn object(&self) -> &object::File<'data> {
        &self.object
    }

    /// The first allocated section (in header order) containing `addr`.
    fn section_of(&self, addr: u64) -> Option<SectionRange> {
        self.sections
            .iter()
            .find(|s| addr >= s.address && addr - s.address < s.size)
            .copied()
    }

    /// Looks up one address: DWARF frames (innermost first), the discriminator
    /// of the innermost location, and the symbol-table fallback when DWARF
    /// names no function. Mirrors what binutils `addr2line` finds.
    pub fn lookup(&self, addr: u64) -> Result<Lookup<'_>, Error> {
        let Some(section) = self.section_of(addr) else {
            return Ok(Lookup::default());
        };
        let mut out = Lookup {
            in_section: true,
            ..Lookup::default()
        };
        // `addr2line` probes the range `[addr, addr + 1)`, which overflows (a
        // panic with overflow checks) at the last address of the address space;
        // no DWARF range can cover it anyway, so only the symbol table is asked.
        if let Some(dwarf) = self.dwarf.as_ref().filter(|_| addr != u64::MAX) {
            // The very first lookup: our scan of the unit's line program (for
            // the discriminator) runs on a second thread while the crate parses
            // the unit, so a one-address run is not slowed down by it.
            let first = self.scanned_once.borrow().is_empty()
                && self.discriminators.borrow().is_empty()
                && self.prescan.borrow().is_none();
            let mut frames = None;
            if first && let Some(raw) = self.raw_dwarf.as_ref() {
                std::thread::scope(|s| {
                    let pre = s.spawn(move || prescan(raw, addr));
                    frames = Some(dwarf.find_frames(addr).skip_all_loads());
                    if let Ok(Some(p)) = pre.join() {
                        *self.prescan.borrow_mut() = Some(p);
                    }
                });
            }
            let frames = match frames {
                Some(f) => f,
                None => dwarf.find_frames(addr).skip_all_loads(),
            };
            let mut iter = frames?;
            while let Some(frame) = iter.next()? {
                let (function, language) = match frame.function {
                    Some(f) => (Some(f.name.to_string_lossy()), f.language),
                    None => (None, None),
                };
                let die = frame.dw_die_offset.map(|o| o.0 as u64);
                let (file, line, column) = match frame.location {
                    Some(l) => (
                        l.file.map(Cow::Borrowed),
                        l.line.unwrap_or(0),
                        l.column.unwrap_or(0),
                    ),
                    None => (None, 0, 0),
                };
                out.frames.push(Frame {
                    function,
                    language,
                    file,
                    line,
                    column,
                    die,
                });
            }
            if out.frames.is_empty()
                && !section.exec
                && let Some(sym) = self.data_symbols().get(&addr)
                && let Some(vars) = self.variables().get(&addr)
                && let Some((_, file, line)) = vars.iter().find(|v| sym.contains(v.0.as_str()))
            {
                // binutils reports a variable's declaration for the exact
                // address of a data symbol whose name contains the variable's
                // (data sections only).
                out.frames.push(Frame {
                    function: None,
                    language: None,
                    file: Some(Cow::Borrowed(file.as_str())),
                    line: *line,
                    column: 0,
                    die: None,
                });
            }
            if !out.frames.is_empty() {
                let (disc, skeleton, file0) = self.unit_info(dwarf, addr)?;
                if skeleton && self.binutils {
                    out.frames.clear();
                } else if out.frames[0].line != 0 {
                    out.discriminator = disc;
                    if self.binutils
                        && let Some(f0) = file0
                    {
                        out.frames[0].file = Some(Cow::Owned(f0));
                    }
                }
            }
        }
        let need_symbol = out.frames.first().is_none_or(|f| f.function.is_none());
        if need_symbol {
            out.symbol = self.symbol_in_section(section, addr);
        }
        Ok(out)
    }

    /// The `.debug_info` offset of the compilation unit whose DWARF covers
    /// `addr` (the unit of the DIE offsets in [`Frame::die`]).
    pub fn unit_offset(&self, addr: u64) -> Option<usize> {
        let dwarf = self.dwarf.as_ref()?;
        let unit = dwarf.find_dwarf_and_unit(addr).skip_all_loads()?;
        unit.header.offset().as_debug_info_offset().map(|o| o.0)
    }

    /// binutils' `arange.low` of the function DIE at offset `die` in the unit
    /// covering `addr`: the start of its first non-empty address range
    /// (`DW_AT_low_pc`, or the first entry of `DW_AT_ranges`), extended
    /// downwards by a later range that ends exactly where it starts, as
    /// binutils' `arange_add` merges them.
    pub fn function_low(&self, addr: u64, die: u64) -> Option<u64> {
        let dwarf = self.dwarf.as_ref()?;
        let unit = dwarf.find_dwarf_and_unit(addr).skip_all_loads()?;
        let entry = unit
            .entry(gimli::UnitOffset(usize::try_from(die).ok()?))
            .ok()?;
        let mut ranges = unit.die_ranges(&entry).ok()?;
        let mut first: Option<(u64, u64)> = None;
        while let Ok(Some(r)) = ranges.next() {
            if r.begin == r.end {
                continue;
            }
            match &mut first {
                None => first = Some((r.begin, r.end)),
                Some(f) if r.begin == f.1 => f.1 = r.end,
                Some(f) if r.end == f.0 => f.0 = r.begin,
                Some(_) => {}
            }
        }
        first.map(|f| f.0)
    }

    /// Global and static variables by address, with their declaration's
    /// file and line (built on first use; a unit that fails to parse is
    /// skipped).
    fn variables(&self) -> &HashMap<u64, Vec<Variable>> {
        self.variables.get_or_init(|| {
            let mut map = HashMap::new();
            if let Some(d) = &self.raw_dwarf {
                let mut units = d.units();
                while let Ok(Some(header)) = units.next() {
                    if let Ok(unit) = d.unit(header) {
                        let _ = collect_variables(d, &unit, &mut map);
                    }
                }
            }
            map
        })
    }

    /// An identifier of the compilation unit covering `addr` according to
    /// `.debug_aranges` (built on first use), for callers that partition
    /// work by unit; `None` when unknown.
    pub fn unit_hint(&self, addr: u64) -> Option<usize> {
        let ranges = self.unit_ranges.get_or_init(|| {
            let mut v = Vec::new();
            if let Some(d) = &self.raw_dwarf {
                let mut headers = d.debug_aranges.headers();
                while let Ok(Some(h)) = headers.next() {
                    let cu = h.debug_info_offset().0;
                    let mut entries = h.entries();
                    while let Ok(Some(e)) = entries.next() {
                        let r = e.range();
                        if r.end > r.begin {
                            v.push((r.begin, r.end, cu));
                        }
                    }
                }
            }
            v.sort_unstable();
            // Ranges claimed by two units (a COMDAT function at -O0, whose
            // discarded copy's DWARF the linker points at the kept copy) are
            // ambiguous: the caller must ask the DWARF lookup itself.
            let mut widest: Option<usize> = None;
            for i in 0..v.len() {
                if let Some(j) = widest
                    && v[i].0 < v[j].1
                    && v[i].2 != v[j].2
                {
                    v[i].2 = AMBIGUOUS_UNIT;
                    v[j].2 = AMBIGUOUS_UNIT;
                }
                if widest.is_none_or(|j| v[i].1 > v[j].1) {
                    widest = Some(i);
                }
            }
            v
        });
        let i = ranges.partition_point(|r| r.0 <= addr);
        let r = ranges.get(i.checked_sub(1)?)?;
        (addr < r.1 && r.2 != AMBIGUOUS_UNIT).then_some(r.2)
    }

    /// Per address, the symbol binutils picks for a data lookup: the first
    /// global one at that address, else the last local one.
    fn data_symbols(&self) -> &DataSymbols<'data> {
        self.data_symbols.get_or_init(|| {
            let mut map: DataSymbols<'data> = HashMap::new();
            let mut global: std::collections::HashSet<u64> = std::collections::HashSet::new();
            let use_dynamic = self.object.symbols().next().is_none();
            let iter: Box<dyn Iterator<Item = object::Symbol<'data, '_>>> = if use_dynamic {
                Box::new(self.object.dynamic_symbols())
            } else {
                Box::new(self.object.symbols())
            };
            for sym in iter {
                if sym.kind() == object::SymbolKind::Section || sym.is_undefined() {
                    continue;
                }
                let Ok(name) = sym.name() else { continue };
                let a = sym.address();
                if global.contains(&a) {
                    continue;
                }
                map.insert(a, name);
                if sym.is_global() {
                    global.insert(a);
                }
            }
            map
        })
    }

    /// The nearest symbol at or before `addr`, chosen as binutils does
    /// (preceding function-like symbol in the same section; no size limit).
    pub fn symbol(&self, addr: u64) -> Option<SymbolHit<'_>> {
        let section = self.section_of(addr)?;
        self.symbol_in_section(section, addr)
    }

    /// Looks up a symbol by name (raw or demangled), returning its address.
    /// Dynamic symbols are searched too.
    pub fn symbol_address(&self, name: &str) -> Option<u64> {
        let names = self.symbol_names.get_or_init(|| {
            let mut raw: HashMap<&'data str, u64> = HashMap::new();
            for s in self.object.symbols().chain(self.object.dynamic_symbols()) {
                if s.is_definition()
                    && let Ok(n) = s.name()
                {
                    raw.entry(n).or_insert(s.address());
                    if let Some((base, _)) = n.split_once('@') {
                        raw.entry(base).or_insert(s.address());
                    }
                }
            }
            raw
        });
        if let Some(&a) = names.get(name) {
            return Some(a);
        }
        let demangled = self.demangled_names.get_or_init(|| {
            // In symbol-table order, so that the first definition wins.
            let mut map: HashMap<String, u64> = HashMap::new();
            for s in self.object.symbols().chain(self.object.dynamic_symbols()) {
                if s.is_definition()
                    && let Ok(raw) = s.name()
                    && let Some(d) = super::demangle::demangle(raw)
                {
                    map.entry(d).or_insert(s.address());
                }
            }
            map
        });
        demangled.get(name).copied()
    }

    /// Looks up a symbol by its exact name in the symbol table binutils would
    /// use (`.symtab`, or `.dynsym` when there is none).
    pub fn symbol_address_exact(&self, name: &str) -> Option<u64> {
        let found =
            |s: object::Symbol<'data, '_>| s.name().is_ok_and(|n| n == name).then(|| s.address());
        if self.object.symbols().next().is_some() {
            self.object.symbols().find_map(found)
        } else {
            self.object.dynamic_symbols().find_map(found)
        }
    }

    fn symbol_in_section(&self, section: SectionRange, addr: u64) -> Option<SymbolHit<'_>> {
        let table = self.symbols.get_or_init(|| self.build_symbols());
        let syms = &table.syms;
        // Last symbol of this section with value <= addr.
        let index = u32::try_from(section.index).ok()?;
        let end = syms.partition_point(|s| (s.section, s.value) <= (index, addr));
        if end == 0 || syms[end - 1].section != index {
            return None;
        }
        let best_off = syms[end - 1].value;
        let start = syms[..end].partition_point(|s| (s.section, s.value) < (index, best_off));
        let mut best: Option<&Sym> = None;
        for cand in &syms[start..end] {
            best = match best {
                None => Some(cand),
                Some(cur) if better_fit(cur, cand, addr) => Some(cand),
                keep => keep,
            };
        }
        best.map(|s| SymbolHit {
            name: self.symbol_name(table.source, s.index),
            address: s.value,
            size: s.size,
            file: table.files.get(s.file as usize).copied(),
        })
    }

    /// The name of symbol `index` of a symbol table ("" if unreadable).
    fn symbol_name(&self, source: SymSource, index: u32) -> &'data str {
        let index = object::SymbolIndex(index as usize);
        let name = match source {
            SymSource::Debug => self
                .debug_object
                .as_ref()
                .and_then(|d| d.symbol_by_index(index).ok())
                .and_then(|s| s.name().ok()),
            SymSource::Static => self
                .object
                .symbol_by_index(index)
                .ok()
                .and_then(|s| s.name().ok()),
            SymSource::Dynamic => self
                .object
                .dynamic_symbol_table()
                .and_then(|t| t.symbol_by_index(index).ok())
                .and_then(|s| s.name().ok()),
        };
        name.unwrap_or("")
    }

    fn build_symbols(&self) -> SymbolTable<'data> {
        #[derive(PartialEq)]
        enum State {
            Nothing,
            Symbol,
            FileAfterSymbol,
        }
        // Section indices of the debug file mapped to the object's by name.
        let mut section_map: Option<HashMap<usize, usize>> = None;
        let source = match &self.debug_object {
            Some(d) if d.symbols().next().is_some() => SymSource::Debug,
            _ if self.object.symbols().next().is_none() => SymSource::Dynamic,
            _ => SymSource::Static,
        };
        let iter: Box<dyn Iterator<Item = object::Symbol<'data, '_>>> = match &self.debug_object {
            Some(d) if source == SymSource::Debug => {
                let mut map = HashMap::new();
                for ds in d.sections() {
                    if let Ok(name) = ds.name()
                        && let Some(ms) = self.object.section_by_name(name)
                    {
                        map.insert(ds.index().0, ms.index().0);
                    }
                }
                section_map = Some(map);
                Box::new(d.symbols())
            }
            _ if source == SymSource::Dynamic => Box::new(self.object.dynamic_symbols()),
            _ => Box::new(self.object.symbols()),
        };
        // Sized once: the table is kept for the whole run.
        let (lower, upper) = iter.size_hint();
        let mut syms: Vec<Sym> = Vec::with_capacity(upper.unwrap_or(lower));
        let mut files: Vec<&'data str> = Vec::new();
        let mut file: Option<&'data str> = None;
        let mut state = State::Nothing;
        for s in iter {
            let (st_info, st_other) = match s.flags() {
                SymbolFlags::Elf { st_info, st_other } => (st_info, st_other),
                _ => (
                    if s.kind() == object::SymbolKind::Text {
                        ELF_STT_FUNC
                    } else {
                        ELF_STT_NOTYPE
                    },
                    0,
                ),
            };
            let st_type = st_info & 0xf;
            let name = s.name().unwrap_or("");
            if st_type == ELF_STT_FILE {
                file = Some(name);
                files.push(name);
                if state == State::Symbol {
                    state = State::FileAfterSymbol;
                }
                continue;
            }
            if state == State::Nothing {
                state = State::Symbol;
            }
            if matches!(
                st_type,
                ELF_STT_SECTION | ELF_STT_OBJECT | ELF_STT_COMMON | ELF_STT_TLS
            ) {
                continue;
            }
            let SymbolSection::Section(idx) = s.section() else {
                continue;
            };
            let section = match &section_map {
                Some(map) => match map.get(&idx.0) {
                    Some(&i) => i,
                    None => continue,
                },
                None => idx.0,
            };
            let size = s.size();
            if size == 0
                && s.is_local()
                && st_type == ELF_STT_NOTYPE
                && st_other & 3 == ELF_STV_HIDDEN
            {
                continue;
            }
            let file = if file.is_some() && (s.is_local() || state != State::FileAfterSymbol) {
                file
            } else {
                None
            };
            let (Ok(index), Ok(section)) = (u32::try_from(s.index().0), u32::try_from(section))
            else {
                continue;
            };
            syms.push(Sym {
                value: s.address(),
                size: if size == 0 { 1 } else { size },
                index,
                file: match file {
                    Some(_) => u32::try_from(files.len() - 1).unwrap_or(NO_FILE),
                    None => NO_FILE,
                },
                section,
                function: st_type == ELF_STT_FUNC || st_type == ELF_STT_GNU_IFUNC,
                notype: st_type == ELF_STT_NOTYPE,
            });
        }
        // Stable: keeps symbol-table order among equal keys.
        syms.sort_by_key(|s| (s.section, s.value));
        syms.shrink_to_fit();
        SymbolTable {
            syms,
            source,
            files,
        }
    }

    /// Builds the line extras of the unit at `.debug_info` offset `off`.
    fn build_unit_lines(&self, off: usize) -> Option<DiscTable> {
        let d = self.raw_dwarf.as_ref()?;
        let header = d
            .debug_info
            .header_from_offset(gimli::DebugInfoOffset(off))
            .ok()?;
        let unit = d.unit(header).ok()?;
        let unit_ref = unit.unit_ref(d);
        Some(build_discriminators(&unit_ref).map(|mut l| {
            l.skeleton = is_skeleton(&unit);
            l
        }))
    }

    /// The discriminator at `addr` and whether its unit is a split-DWARF
    /// skeleton.
    fn unit_info(
        &self,
        dwarf: &addr2line::Context<Reader<'data>>,
        addr: u64,
    ) -> Result<(u32, bool, Option<String>), Error> {
        // Fast path: the unit from .debug_aranges (only once that index
        // exists: building it costs more than one lookup), its table built.
        let hint = if self.unit_ranges.get().is_some() {
            self.unit_hint(addr)
        } else {
            None
        };
        let cached = hint.and_then(|k| self.discriminators.borrow().get(&k).cloned());
        let table = match cached {
            Some(t) => t,
            None => {
                let (key, built) = match hint.and_then(|k| self.build_unit_lines(k).map(|t| (k, t)))
                {
                    Some(kt) => kt,
                    None => {
                        let Some(unit) = dwarf.find_dwarf_and_unit(addr).skip_all_loads() else {
                            return Ok((0, false, None));
                        };
                        let key = unit
                            .header
                            .offset()
                            .as_debug_info_offset()
                            .map(|o| o.0)
                            .unwrap_or(usize::MAX);
                        let cached = self.discriminators.borrow().get(&key).cloned();
                        if let Some(t) = cached {
                            return Ok(answer(&t, addr));
                        }
                        // The first lookup in a unit scans its line program only up
                        // to the address; the table is built from the second on.
                        if self.scanned_once.borrow_mut().insert(key) {
                            let skeleton = is_skeleton(&unit);
                            let pre = self.prescan.borrow_mut().take();
                            let scanned = match pre {
                                Some(p) if p.unit == key && p.addr == addr => p.result,
                                _ => scan_line_program(&unit, addr),
                            };
                            self.line_program_read();
                            let (disc, defaulted, file0) = scanned?;
                            return Ok((disc, skeleton, if defaulted { file0 } else { None }));
                        }
                        let t = build_discriminators(&unit).map(|mut l| {
                            l.skeleton = is_skeleton(&unit);
                            l
                        });
                        (key, t)
                    }
                };
                self.line_program_read();
                let t = Rc::new(built);
                self.discriminators.borrow_mut().insert(key, t.clone());
                t
            }
        };
        Ok(answer(&table, addr))
    }
}

/// Languages binutils 2.40's `mangle_style` gives no mangling style: their
/// `DW_AT_name` is the symbol name.
pub fn unmangled_language(lang: gimli::DwLang) -> bool {
    matches!(
        lang,
        gimli::DW_LANG_C89
            | gimli::DW_LANG_C
            | gimli::DW_LANG_Cobol74
            | gimli::DW_LANG_Cobol85
            | gimli::DW_LANG_Fortran77
            | gimli::DW_LANG_Pascal83
            | gimli::DW_LANG_PLI
            | gimli::DW_LANG_C99
            | gimli::DW_LANG_UPC
            | gimli::DW_LANG_C11
    )
}

/// The discriminator, skeleton flag and binutils file-0 override at `addr`
/// from a unit's line extras.
fn answer(table: &DiscTable, addr: u64) -> (u32, bool, Option<String>) {
    {
        let skeleton = matches!(table, Ok(l) if l.skeleton);
        let Ok(lines) = table else {
            return (0, false, None);
        };
        let seqs = &lines.seqs;
        let i = seqs.partition_point(|s| s.start <= addr);
        for seq in seqs[..i].iter().rev() {
            if addr < seq.end {
                let off = u32::try_from(addr - seq.start).unwrap_or(u32::MAX);
                let j = seq.rows.partition_point(|r| r.0 <= off);
                let disc = if j == 0 { 0 } else { seq.rows[j - 1].1 };
                let file0 = if addr < seq.default_end {
                    lines.file0.clone()
                } else {
                    None
                };
                return (disc, skeleton, file0);
            }
        }
        (0, skeleton, None)
    }
}

/// binutils' file-0 path for a DWARF 5 unit, when it differs from file 1's.
fn file0_override(unit: &gimli::UnitRef<'_, Reader<'_>>) -> Option<String> {
    let program = unit.line_program.as_ref()?;
    if program.header().version() < 5 {
        return None;
    }
    let f0 = file_name(unit.dwarf, unit.unit, 0);
    let f1 = file_name(unit.dwarf, unit.unit, 1);
    if f0.is_some() && f0 != f1 { f0 } else { None }
}

/// Runs a unit's line program until the row covering `addr` is known:
/// (discriminator, whether the row still uses the initial file register,
/// binutils' file-0 path).
fn scan_line_program(
    unit: &gimli::UnitRef<'_, Reader<'_>>,
    addr: u64,
) -> Result<(u32, bool, Option<String>), Error> {
    let Some(program) = unit.line_program.clone() else {
        return Ok((0, false, None));
    };
    let mut rows = program.rows();
    // The last row of the current sequence at or below `addr`.
    let mut best: Option<(u64, u32, bool)> = None;
    let mut defaulted = true;
    while let Some((_, row)) = rows.next_row()? {
        let a = row.address();
        if row.end_sequence() {
            if a > addr && best.is_some() {
                break;
            }
            best = None;
            defaulted = true;
            continue;
        }
        if row.file_index() != 1 {
            defaulted = false;
        }
        if a <= addr {
            let disc = u32::try_from(row.discriminator()).unwrap_or(u32::MAX);
            best = Some((a, disc, defaulted));
        } else if best.is_some() {
            break;
        }
    }
    Ok(match best {
        Some((_, disc, defaulted)) => {
            let file0 = if defaulted {
                file0_override(unit)
            } else {
                None
            };
            (disc, defaulted && file0.is_some(), file0)
        }
        None => (0, false, None),
    })
}

fn build_discriminators(unit: &gimli::UnitRef<'_, Reader<'_>>) -> Result<UnitLines, gimli::Error> {
    let mut seqs = Vec::new();
    let Some(program) = unit.line_program.clone() else {
        return Ok(UnitLines {
            seqs,
            file0: None,
            skeleton: false,
        });
    };
    let file0 = file0_override(unit);
    let mut rows = program.rows();
    let mut cur: Option<DiscSequence> = None;
    let mut defaulted = true;
    while let Some((_, row)) = rows.next_row()? {
        let addr = row.address();
        if row.end_sequence() {
            if let Some(mut s) = cur.take()
                && addr > s.start
            {
                s.end = addr;
                if defaulted {
                    s.default_end = addr;
                }
                seqs.push(s);
            }
            defaulted = true;
            continue;
        }
        let disc = u32::try_from(row.discriminator()).unwrap_or(u32::MAX);
        let seq = cur.get_or_insert_with(|| DiscSequence {
            start: addr,
            end: addr,
            default_end: addr,
            rows: Vec::new(),
        });
        if defaulted && row.file_index() != 1 {
            defaulted = false;
            seq.default_end = addr;
        }
        let off = u32::try_from(addr.wrapping_sub(seq.start)).unwrap_or(u32::MAX);
        match seq.rows.last_mut() {
            Some(last) if last.1 == disc => {}
            Some(last) if last.0 == off => last.1 = disc,
            None if disc == 0 => {}
            _ => seq.rows.push((off, disc)),
        }
    }
    let keep_defaults = file0.is_some();
    seqs.retain(|s| !s.rows.is_empty() || (keep_defaults && s.default_end > s.start));
    if !keep_defaults {
        for s in &mut seqs {
            s.default_end = s.start;
        }
    }
    seqs.sort_by_key(|s| s.start);
    Ok(UnitLines {
        seqs,
        file0,
        skeleton: false,
    })
}

fn collect_variables(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
    map: &mut HashMap<u64, Vec<Variable>>,
) -> Result<(), gimli::Error> {
    let mut entries = unit.entries();
    while let Some((_, entry)) = entries.next_dfs()? {
        if entry.tag() != gimli::DW_TAG_variable {
            continue;
        }
        let Some(gimli::AttributeValue::Exprloc(expr)) = entry.attr_value(gimli::DW_AT_location)?
        else {
            continue;
        };
        let mut ops = expr.operations(unit.encoding());
        let addr = match ops.next()? {
            // binutils accepts exactly one DW_OP_addr (not DW_OP_addrx).
            Some(gimli::Operation::Address { address }) => address,
            _ => continue,
        };
        if ops.next()?.is_some() {
            continue;
        }
        let mut file_attr = entry.attr_value(gimli::DW_AT_decl_file)?;
        let mut line_attr = entry.attr_value(gimli::DW_AT_decl_line)?;
        if (file_attr.is_none() || line_attr.is_none())
            && let Some(gimli::AttributeValue::UnitRef(off)) =
                entry.attr_value(gimli::DW_AT_specification)?
        {
            let spec = unit.entry(off)?;
            file_attr = file_attr.or(spec.attr_value(gimli::DW_AT_decl_file)?);
            line_attr = line_attr.or(spec.attr_value(gimli::DW_AT_decl_line)?);
        }
        let line = line_attr.and_then(|v| v.udata_value()).unwrap_or(0) as u32;
        let file_index = match file_attr {
            Some(gimli::AttributeValue::FileIndex(i)) => Some(i),
            Some(v) => v.udata_value(),
            None => None,
        };
        let Some(file_index) = file_index else {
            continue;
        };
        let Some(name) = file_name(dwarf, unit, file_index) else {
            continue;
        };
        let var_name = match entry.attr_value(gimli::DW_AT_name)? {
            Some(v) => dwarf
                .attr_string(unit, v)
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            None => String::new(),
        };
        if var_name.is_empty() {
            continue;
        }
        map.entry(addr).or_default().push((var_name, name, line));
    }
    Ok(())
}

/// A line-table file name built as binutils' `concat_filename` does.
fn file_name(
    dwarf: &gimli::Dwarf<Reader<'_>>,
    unit: &gimli::Unit<Reader<'_>>,
    index: u64,
) -> Option<String> {
    let program = unit.line_program.as_ref()?;
    let header = program.header();
    let file = header.file(index)?;
    let string = |v: gimli::AttributeValue<Reader<'_>>| -> Option<String> {
        dwarf
            .attr_string(unit, v)
            .ok()
            .map(|s| s.to_string_lossy().into_owned())
    };
    let name = string(file.path_name())?;
    if name.starts_with('/') {
        return Some(name);
    }
    let comp_dir = unit.comp_dir.map(|d| d.to_string_lossy().into_owned());
    let subdir = file.directory(header).and_then(string);
    let (dir, sub) = match subdir {
        Some(sd) if sd.starts_with('/') => (Some(sd), None),
        Some(sd) => match comp_dir {
            Some(cd) => (Some(cd), Some(sd)),
            None => (Some(sd), None),
        },
        None => (comp_dir, None),
    };
    Some(match (dir, sub) {
        (Some(d), Some(s)) => format!("{d}/{s}/{name}"),
        (Some(d), None) => format!("{d}/{name}"),
        _ => name,
    })
}

/// binutils' `better_fit` (elf.c): whether `new` beats `cur`, both at the same
/// (greatest) start not above `offset`.
fn better_fit(cur: &Sym, new: &Sym, offset: u64) -> bool {
    if cur.value.saturating_add(cur.size) <= offset {
        return new.size > cur.size;
    }
    if new.value.saturating_add(new.size) <= offset {
        return false;
    }
    if cur.function && !new.function {
        return false;
    }
    if new.function && !cur.function {
        return true;
    }
    if cur.notype && !new.notype {
        return true;
    }
    if !cur.notype && new.notype {
        return false;
    }
    new.size < cur.size
}
