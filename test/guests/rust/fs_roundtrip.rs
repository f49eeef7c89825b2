// std::fs round trip inside the scratch preopen named by argv[1]: create, write, read, append,
// metadata, read_dir, rename, copy, remove; and the io::ErrorKind of the usual mistakes.
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

fn check(cond: bool, what: &str) {
    if cond {
        println!("ok: {}", what);
    } else {
        eprintln!("FAIL fs_roundtrip: {}", what);
        std::process::exit(1);
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let root = Path::new(args.get(1).expect("usage: fs_roundtrip SCRATCH"));
    let dir = root.join("work");
    fs::create_dir(&dir)?;
    check(dir.is_dir(), "create_dir");
    check(fs::create_dir(&dir).unwrap_err().kind() == ErrorKind::AlreadyExists, "create_dir twice is AlreadyExists");
    fs::create_dir_all(dir.join("a/b/c"))?;
    check(dir.join("a/b/c").is_dir(), "create_dir_all");

    let file = dir.join("hello.txt");
    fs::write(&file, "hello\n")?;
    check(fs::read_to_string(&file)? == "hello\n", "write then read_to_string");
    {
        let mut f = OpenOptions::new().append(true).open(&file)?;
        f.write_all(b"world\n")?;
    }
    check(fs::read_to_string(&file)? == "hello\nworld\n", "append");
    check(fs::metadata(&file)?.len() == 12, "metadata len");
    check(fs::metadata(&file)?.is_file(), "metadata is_file");
    {
        let mut f = OpenOptions::new().read(true).write(true).open(&file)?;
        f.seek(SeekFrom::Start(6))?;
        f.write_all(b"WORLD")?;
        f.seek(SeekFrom::Start(0))?;
        let mut s = String::new();
        f.read_to_string(&mut s)?;
        check(s == "hello\nWORLD\n", "seek and overwrite");
        f.set_len(5)?;
    }
    check(fs::read(&file)? == b"hello", "set_len truncates");

    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(dir.join("big.bin"), &big)?;
    check(fs::read(dir.join("big.bin"))? == big, "300 KB round trip");

    fs::copy(&file, dir.join("copy.txt"))?;
    check(fs::read(dir.join("copy.txt"))? == b"hello", "copy");
    fs::rename(dir.join("copy.txt"), dir.join("a/moved.txt"))?;
    check(!dir.join("copy.txt").exists() && dir.join("a/moved.txt").exists(), "rename into a subdirectory");

    let mut names: Vec<String> = fs::read_dir(&dir)?.map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    check(names == ["a", "big.bin", "hello.txt"], "read_dir lists exactly a, big.bin, hello.txt");

    check(File::open(dir.join("missing")).unwrap_err().kind() == ErrorKind::NotFound, "open missing is NotFound");
    check(fs::remove_dir(dir.join("a")).is_err(), "remove_dir of a non-empty directory fails");
    fs::remove_file(dir.join("big.bin"))?;
    check(!dir.join("big.bin").exists(), "remove_file");
    fs::remove_dir_all(dir.join("a"))?;
    check(!dir.join("a").exists(), "remove_dir_all");
    check(File::open(root.join("../outside")).is_err(), "a path above the preopen fails");
    println!("PASS fs_roundtrip");
    Ok(())
}
