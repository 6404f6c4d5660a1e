//! Everything the handler needs that must be computed with allocation, computed
//! ahead of time and published as immutable snapshots: the module map (path, load
//! bias, `PT_LOAD` ranges, GNU build-id, exported function symbols) and the
//! host's registries (plugin address ranges, descriptors to flush).
//!
//! Snapshots are swapped in with one atomic pointer store. A replaced snapshot is
//! never freed: a handler on another thread may be reading it at that very moment
//! and there is no lock-free way to know when it stopped. The cost is one small
//! allocation per plugin load/unload, which a server does a handful of times.

use std::ffi::{CStr, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, Ordering};

/// An immutable value published for lock-free readers (the signal handler).
pub(crate) struct Published<T> {
    ptr: AtomicPtr<T>,
}

impl<T> Published<T> {
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Publishes `value`; the previous snapshot is deliberately leaked (see the
    /// module documentation).
    pub(crate) fn publish(&self, value: T) {
        let new = Box::into_raw(Box::new(value));
        let _leaked_on_purpose = self.ptr.swap(new, Ordering::AcqRel);
    }

    /// The current snapshot, if any was published.
    pub(crate) fn load(&self) -> Option<&'static T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: `p` is null or came from `Box::into_raw` in `publish`, and
        // published boxes are never freed, so the reference is valid forever.
        unsafe { p.as_ref() }
    }
}

/// One exported function symbol of a module.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Symbol {
    /// Run-time address (load bias applied).
    pub(crate) addr: usize,
    pub(crate) size: usize,
    /// Offset of the name in [`Module::names`].
    pub(crate) name_off: u32,
    pub(crate) name_len: u32,
}

/// One loaded ELF object.
#[derive(Debug)]
pub(crate) struct Module {
    /// Absolute path (the main executable's comes from `/proc/self/exe`).
    pub(crate) path: Box<[u8]>,
    /// `dlpi_addr`: what `addr2line -e path` offsets are relative to.
    pub(crate) bias: usize,
    /// `[start, end)` of each `PT_LOAD` segment at run time.
    pub(crate) ranges: Box<[(usize, usize)]>,
    /// Lowest and highest mapped address.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// GNU build-id bytes (empty when the object has none).
    pub(crate) build_id: Box<[u8]>,
    /// Defined function symbols of `.dynsym`, sorted by address (what `dladdr`,
    /// and thus glibc's `backtrace_symbols`, can name).
    pub(crate) symbols: Box<[Symbol]>,
    pub(crate) names: Box<[u8]>,
}

impl Module {
    /// Whether `pc` lies in one of the object's segments.
    pub(crate) fn contains(&self, pc: usize) -> bool {
        self.ranges.iter().any(|&(s, e)| pc >= s && pc < e)
    }

    /// The exported function covering `pc`, as (name, offset from its start).
    pub(crate) fn symbol_for(&self, pc: usize) -> Option<(&[u8], usize)> {
        let idx = self.symbols.partition_point(|s| s.addr <= pc);
        let sym = self.symbols.get(idx.checked_sub(1)?)?;
        let covers = if sym.size == 0 {
            pc == sym.addr
        } else {
            pc - sym.addr < sym.size
        };
        if !covers {
            return None;
        }
        let start = sym.name_off as usize;
        let name = self.names.get(start..start + sym.name_len as usize)?;
        Some((name, pc - sym.addr))
    }
}

/// All objects loaded when the map was taken, main executable first.
#[derive(Debug, Default)]
pub(crate) struct ModuleMap {
    pub(crate) modules: Vec<Module>,
}

impl ModuleMap {
    /// The module whose segments contain `pc`.
    pub(crate) fn find(&self, pc: usize) -> Option<&Module> {
        self.modules.iter().find(|m| m.contains(pc))
    }

    /// Takes a fresh map with `dl_iterate_phdr`.
    pub(crate) fn take() -> ModuleMap {
        let mut map = ModuleMap::default();
        // SAFETY: the callback only reads the `dl_phdr_info` it is given (valid
        // for the duration of the call) and the memory of the object it
        // describes (see `module_from_info`); `data` is our `&mut ModuleMap`,
        // alive for the whole call; the callback never unwinds.
        unsafe {
            libc::dl_iterate_phdr(Some(collect), (&raw mut map).cast::<c_void>());
        }
        map
    }
}

unsafe extern "C" fn collect(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `dl_iterate_phdr` passes a valid info pointer and our `data`.
    let (info, map) = unsafe { (&*info, &mut *data.cast::<ModuleMap>()) };
    let first = map.modules.is_empty();
    // SAFETY: `info` describes an object that stays loaded during the callback.
    if let Some(m) = unsafe { module_from_info(info, first) } {
        map.modules.push(m);
    }
    0
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_NOTE: u32 = 4;
const PF_R: u32 = 4;
const NT_GNU_BUILD_ID: u32 = 3;

/// Builds a [`Module`] from one `dl_iterate_phdr` entry.
///
/// # Safety
/// `info` must come from `dl_iterate_phdr` and the object must stay loaded for
/// the duration of the call.
unsafe fn module_from_info(info: &libc::dl_phdr_info, first: bool) -> Option<Module> {
    let name: &[u8] = if info.dlpi_name.is_null() {
        b""
    } else {
        // SAFETY: glibc gives a NUL-terminated name that lives as long as the object.
        unsafe { CStr::from_ptr(info.dlpi_name) }.to_bytes()
    };
    let path: Vec<u8> = if name.is_empty() {
        if !first {
            return None;
        }
        std::fs::read_link("/proc/self/exe")
            .ok()?
            .as_os_str()
            .as_bytes()
            .to_vec()
    } else {
        name.to_vec()
    };
    let bias = info.dlpi_addr as usize;
    let phdrs: &[libc::Elf64_Phdr] = if info.dlpi_phdr.is_null() {
        &[]
    } else {
        // SAFETY: `dlpi_phdr` points to `dlpi_phnum` program headers mapped with the object.
        unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
    };
    let mut ranges = Vec::new();
    let mut readable = Vec::new();
    for ph in phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        let s = bias.wrapping_add(ph.p_vaddr as usize);
        let e = s.wrapping_add(ph.p_memsz as usize);
        ranges.push((s, e));
        if ph.p_flags & PF_R != 0 {
            readable.push((s, e));
        }
    }
    let start = ranges.iter().map(|r| r.0).min().unwrap_or(0);
    let end = ranges.iter().map(|r| r.1).max().unwrap_or(0);
    let mem = Mem {
        readable: &readable,
    };
    let mut build_id = Vec::new();
    for ph in phdrs.iter().filter(|p| p.p_type == PT_NOTE) {
        let at = bias.wrapping_add(ph.p_vaddr as usize);
        if let Some(id) = mem.build_id(at, ph.p_memsz as usize) {
            build_id = id;
            break;
        }
    }
    let mut symbols = Vec::new();
    let mut names = Vec::new();
    if let Some(dynamic) = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC) {
        let at = bias.wrapping_add(dynamic.p_vaddr as usize);
        mem.dynamic_symbols(bias, at, dynamic.p_memsz as usize, &mut symbols, &mut names);
    }
    Some(Module {
        path: path.into_boxed_slice(),
        bias,
        ranges: ranges.into_boxed_slice(),
        start,
        end,
        build_id: build_id.into_boxed_slice(),
        symbols: symbols.into_boxed_slice(),
        names: names.into_boxed_slice(),
    })
}

/// Bounds-checked reads of a loaded object's own readable segments.
struct Mem<'a> {
    readable: &'a [(usize, usize)],
}

impl Mem<'_> {
    /// `len` bytes at `addr`, if they lie inside one readable segment.
    fn bytes(&self, addr: usize, len: usize) -> Option<&[u8]> {
        let end = addr.checked_add(len)?;
        if !self.readable.iter().any(|&(s, e)| addr >= s && end <= e) {
            return None;
        }
        // SAFETY: [addr, end) lies inside a readable PT_LOAD segment of an object
        // that `dl_iterate_phdr` keeps loaded while we run; the bytes are only
        // read (u8 has no alignment or validity requirement).
        Some(unsafe { std::slice::from_raw_parts(addr as *const u8, len) })
    }

    fn u32_at(&self, addr: usize) -> Option<u32> {
        let b = self.bytes(addr, 4)?;
        Some(u32::from_ne_bytes(b.try_into().ok()?))
    }

    fn u64_at(&self, addr: usize) -> Option<u64> {
        let b = self.bytes(addr, 8)?;
        Some(u64::from_ne_bytes(b.try_into().ok()?))
    }

    /// The GNU build-id in a note segment.
    fn build_id(&self, at: usize, len: usize) -> Option<Vec<u8>> {
        let notes = self.bytes(at, len)?;
        let mut off = 0usize;
        while off + 12 <= notes.len() {
            let word =
                |o: usize| u32::from_ne_bytes([notes[o], notes[o + 1], notes[o + 2], notes[o + 3]]);
            let (namesz, descsz, ty) = (word(off) as usize, word(off + 4) as usize, word(off + 8));
            let name_at = off + 12;
            let desc_at = name_at + namesz.next_multiple_of(4);
            let next = desc_at + descsz.next_multiple_of(4);
            if desc_at + descsz > notes.len() {
                return None;
            }
            if ty == NT_GNU_BUILD_ID && notes.get(name_at..name_at + namesz) == Some(b"GNU\0") {
                return Some(notes[desc_at..desc_at + descsz].to_vec());
            }
            off = next;
        }
        None
    }

    /// Collects the defined function symbols of the dynamic symbol table.
    fn dynamic_symbols(
        &self,
        bias: usize,
        at: usize,
        len: usize,
        out: &mut Vec<Symbol>,
        names: &mut Vec<u8>,
    ) {
        const DT_NULL: u64 = 0;
        const DT_HASH: u64 = 4;
        const DT_STRTAB: u64 = 5;
        const DT_SYMTAB: u64 = 6;
        const DT_STRSZ: u64 = 10;
        const DT_GNU_HASH: u64 = 0x6fff_fef5;
        let (mut hash, mut gnu_hash, mut strtab, mut symtab, mut strsz) = (0, 0, 0, 0, 0usize);
        // ld.so relocates these pointers in place for most objects, but not for
        // read-only dynamic sections (the vDSO): accept both.
        let fix = |v: u64| -> usize {
            let v = v as usize;
            if self.bytes(v, 1).is_some() {
                v
            } else {
                v.wrapping_add(bias)
            }
        };
        for i in 0..len / 16 {
            let Some(tag) = self.u64_at(at + i * 16) else {
                return;
            };
            let Some(val) = self.u64_at(at + i * 16 + 8) else {
                return;
            };
            match tag {
                DT_NULL => break,
                DT_HASH => hash = fix(val),
                DT_GNU_HASH => gnu_hash = fix(val),
                DT_STRTAB => strtab = fix(val),
                DT_SYMTAB => symtab = fix(val),
                DT_STRSZ => strsz = val as usize,
                _ => {}
            }
        }
        if symtab == 0 || strtab == 0 {
            return;
        }
        let count = if hash != 0 {
            self.u32_at(hash + 4).map(|n| n as usize)
        } else if gnu_hash != 0 {
            self.gnu_hash_count(gnu_hash)
        } else {
            None
        };
        let Some(count) = count else { return };
        let Some(strings) = self.bytes(strtab, strsz) else {
            return;
        };
        for i in 0..count.min(1 << 20) {
            let Some(sym) = self.bytes(symtab + i * 24, 24) else {
                break;
            };
            let st_name = u32::from_ne_bytes([sym[0], sym[1], sym[2], sym[3]]) as usize;
            let st_type = sym[4] & 0xf;
            let shndx = u16::from_ne_bytes([sym[6], sym[7]]);
            let value = u64::from_ne_bytes(sym[8..16].try_into().unwrap_or([0; 8])) as usize;
            let size = u64::from_ne_bytes(sym[16..24].try_into().unwrap_or([0; 8])) as usize;
            // STT_FUNC or STT_GNU_IFUNC, defined here.
            if !(st_type == 2 || st_type == 10) || shndx == 0 || value == 0 {
                continue;
            }
            let Some(tail) = strings.get(st_name..) else {
                continue;
            };
            let name = tail.split(|&b| b == 0).next().unwrap_or(&[]);
            if name.is_empty() {
                continue;
            }
            out.push(Symbol {
                addr: bias.wrapping_add(value),
                size,
                name_off: names.len() as u32,
                name_len: name.len() as u32,
            });
            names.extend_from_slice(name);
        }
        out.sort_by_key(|s| (s.addr, std::cmp::Reverse(s.size)));
        out.dedup_by_key(|s| s.addr);
    }

    /// Number of symbols covered by a `DT_GNU_HASH` table.
    fn gnu_hash_count(&self, at: usize) -> Option<usize> {
        let nbuckets = self.u32_at(at)? as usize;
        let symoffset = self.u32_at(at + 4)? as usize;
        let bloom_size = self.u32_at(at + 8)? as usize;
        let buckets = at + 16 + bloom_size * 8;
        let chains = buckets + nbuckets * 4;
        let mut last = 0usize;
        for b in 0..nbuckets {
            last = last.max(self.u32_at(buckets + b * 4)? as usize);
        }
        if last < symoffset {
            return Some(symoffset);
        }
        loop {
            let word = self.u32_at(chains + (last - symoffset) * 4)?;
            if word & 1 != 0 {
                return Some(last + 1);
            }
            last += 1;
        }
    }
}

/// One "plugin owns this range" entry.
#[derive(Clone, Debug)]
pub(crate) struct PluginEntry {
    pub(crate) name: Box<[u8]>,
    pub(crate) library: Box<[u8]>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// One descriptor to flush before the report ends.
#[derive(Clone, Debug)]
pub(crate) struct FlushEntry {
    pub(crate) fd: c_int,
    pub(crate) label: Box<[u8]>,
}

/// Published snapshots read by the handler.
pub(crate) static MODULES: Published<ModuleMap> = Published::new();
pub(crate) static PLUGINS: Published<Vec<PluginEntry>> = Published::new();
pub(crate) static FLUSH: Published<Vec<FlushEntry>> = Published::new();

/// Writers' master copies (never touched by the handler).
pub(crate) static PLUGINS_MASTER: Mutex<Vec<PluginEntry>> = Mutex::new(Vec::new());
pub(crate) static FLUSH_MASTER: Mutex<Vec<FlushEntry>> = Mutex::new(Vec::new());
pub(crate) static MODULES_WRITER: Mutex<()> = Mutex::new(());

/// Re-takes the module map and publishes it.
pub(crate) fn refresh() {
    let _serialise = MODULES_WRITER.lock().unwrap_or_else(|e| e.into_inner());
    MODULES.publish(ModuleMap::take());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_has_the_test_binary_and_libc() {
        let map = ModuleMap::take();
        let exe = std::fs::read_link("/proc/self/exe").expect("exe");
        let main = &map.modules[0];
        assert_eq!(&*main.path, exe.as_os_str().as_bytes());
        let here = map_has_the_test_binary_and_libc as *const () as usize;
        assert!(main.contains(here));
        assert!(map.find(here).is_some());
        assert_eq!(main.build_id.len(), 20, "rustc links with a sha1 build-id");
        let libc_mod = map
            .modules
            .iter()
            .find(|m| m.path.windows(7).any(|w| w == b"libc.so"))
            .expect("libc in the map");
        let write = libc::write as *const () as usize;
        let (name, off) = libc_mod.symbol_for(write).expect("write is exported");
        assert_eq!(off, 0);
        assert!(
            name == b"write" || name == b"__write" || name == b"__libc_write",
            "{name:?}"
        );
    }
}
