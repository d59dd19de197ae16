//! Multicast ID assignment for one network of one pass.
//!
//! Input: delivery classes, each the set of PEs that must receive the same stream row. Output:
//! an X-bus row ID per physical row, a column ID per PE, and a (row tag, column tag) per class
//! such that a word sent with a class's tag reaches all and only that class's PEs.
//!
//! Physical rows that share a class must share a row ID, so rows are first merged into groups
//! (union-find); each group gets its own row ID and numbers its classes with column IDs. The
//! all-ones ID never matches, so everything not in a class gets it.

/// PE position (row, column).
pub type Pe = (u32, u32);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdAssignment {
    /// Row ID per physical row (all-ones where no class lives).
    pub row_ids: Vec<u32>,
    /// Column ID per PE, row-major `r * cols + c` (all-ones where the PE is in no class).
    pub col_ids: Vec<u32>,
    /// Tag per class, in the order given.
    pub tags: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    /// More row groups than row IDs: `(needed, available)`.
    RowIds(usize, u32),
    /// More classes in one row group than column IDs: `(needed, available)`.
    ColIds(usize, u32),
    /// A PE was put in two classes (a compiler bug, reported rather than mis-delivered).
    Overlap(Pe),
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

pub fn assign(
    rows: u32,
    cols: u32,
    row_bits: u32,
    col_bits: u32,
    classes: &[Vec<Pe>],
) -> Result<IdAssignment, IdError> {
    let row_none = (1u32 << row_bits) - 1;
    let col_none = (1u32 << col_bits) - 1;
    let mut parent: Vec<usize> = (0..rows as usize).collect();
    for class in classes {
        if let Some(&(r0, _)) = class.first() {
            for &(r, _) in class {
                let (a, b) = (
                    find(&mut parent, r0 as usize),
                    find(&mut parent, r as usize),
                );
                parent[a] = b;
            }
        }
    }
    // Number row groups in order of their first row, so IDs are deterministic.
    let mut group_of_root = vec![u32::MAX; rows as usize];
    let mut row_ids = vec![row_none; rows as usize];
    let mut groups = 0u32;
    let mut used_row = vec![false; rows as usize];
    for class in classes {
        for &(r, _) in class {
            used_row[r as usize] = true;
        }
    }
    for r in 0..rows as usize {
        if !used_row[r] {
            continue;
        }
        let root = find(&mut parent, r);
        if group_of_root[root] == u32::MAX {
            group_of_root[root] = groups;
            groups += 1;
        }
        row_ids[r] = group_of_root[root];
    }
    if groups > row_none {
        return Err(IdError::RowIds(groups as usize, row_none));
    }
    let mut next_col = vec![0u32; groups as usize];
    let mut col_ids = vec![col_none; (rows * cols) as usize];
    let mut tags = Vec::with_capacity(classes.len());
    for class in classes {
        let Some(&(r0, _)) = class.first() else {
            tags.push((row_none, col_none));
            continue;
        };
        let g = row_ids[r0 as usize];
        let c = next_col[g as usize];
        if c >= col_none {
            let need = classes
                .iter()
                .filter(|k| k.first().is_some_and(|&(r, _)| row_ids[r as usize] == g))
                .count();
            return Err(IdError::ColIds(need, col_none));
        }
        next_col[g as usize] += 1;
        for &(r, cc) in class {
            let slot = &mut col_ids[(r * cols + cc) as usize];
            if *slot != col_none {
                return Err(IdError::Overlap((r, cc)));
            }
            *slot = c;
        }
        tags.push((g, c));
    }
    Ok(IdAssignment {
        row_ids,
        col_ids,
        tags,
    })
}

impl IdAssignment {
    /// The PEs a word with `tag` reaches, as the multicast controllers decide it.
    pub fn reach(&self, cols: u32, row_bits: u32, col_bits: u32, tag: (u32, u32)) -> Vec<Pe> {
        let row_none = (1u32 << row_bits) - 1;
        let col_none = (1u32 << col_bits) - 1;
        let mut out = Vec::new();
        if tag.0 == row_none || tag.1 == col_none {
            return out;
        }
        for (r, &rid) in self.row_ids.iter().enumerate() {
            if rid != tag.0 {
                continue;
            }
            for c in 0..cols {
                if self.col_ids[r * cols as usize + c as usize] == tag.1 {
                    out.push((r as u32, c));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_reach_exactly_their_pes() {
        // A diagonal: class d holds (i, l) with l + i == d, on 3 rows x 4 columns.
        let classes: Vec<Vec<Pe>> = (0..6)
            .map(|d| {
                (0..3u32)
                    .flat_map(|i| (0..4u32).map(move |l| (i, l)))
                    .filter(|&(i, l)| i + l == d)
                    .collect()
            })
            .collect();
        let a = assign(3, 4, 4, 5, &classes).unwrap();
        for (k, class) in classes.iter().enumerate() {
            let mut got = a.reach(4, 4, 5, a.tags[k]);
            let mut want = class.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "class {k}");
        }
    }

    #[test]
    fn too_many_row_groups_is_an_error() {
        let classes: Vec<Vec<Pe>> = (0..4).map(|r| vec![(r, 0)]).collect();
        assert_eq!(assign(4, 1, 2, 4, &classes), Err(IdError::RowIds(4, 3)));
    }

    #[test]
    fn overlapping_classes_are_refused() {
        let classes = vec![vec![(0, 0)], vec![(0, 0)]];
        assert_eq!(assign(1, 1, 4, 4, &classes), Err(IdError::Overlap((0, 0))));
    }
}
