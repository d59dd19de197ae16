//! The float model, run by tract (the ONNX runtime library): the reference output a run is
//! compared with, and every intermediate value a calibration needs.

use std::collections::BTreeMap;
use std::path::Path;

use tract_onnx::prelude::*;

use super::{Graph, OnnxError};

/// Values of one float run, by ONNX value name: N x (the value's per-sample elements).
pub type Values = BTreeMap<String, Vec<f32>>;

fn err(e: impl std::fmt::Display) -> OnnxError {
    OnnxError::Reference(format!("{e:#}"))
}

/// Run the model at `path` on `input` (N x C x H x W, `n` samples) and return the values
/// named in `wanted` (the graph's output among them, where asked for).
pub fn run(
    path: &Path,
    g: &Graph,
    input: &[f32],
    n: usize,
    wanted: &[String],
) -> Result<Values, OnnxError> {
    let s = g.input_shape;
    let mut model = tract_onnx::onnx().model_for_path(path).map_err(err)?;
    model
        .set_input_fact(
            0,
            f32::fact([n, s.c as usize, s.h as usize, s.w as usize]).into(),
        )
        .map_err(err)?;
    model.select_outputs_by_name(wanted).map_err(err)?;
    let plan = model
        .into_optimized()
        .map_err(err)?
        .into_runnable()
        .map_err(err)?;
    let x = tract_ndarray::Array4::from_shape_vec(
        (n, s.c as usize, s.h as usize, s.w as usize),
        input.to_vec(),
    )
    .map_err(err)?;
    let outs = plan.run(tvec!(Tensor::from(x).into())).map_err(err)?;
    let mut values = BTreeMap::new();
    for (name, t) in wanted.iter().zip(outs.iter()) {
        let v = t
            .cast_to::<f32>()
            .map_err(err)?
            .to_plain_array_view::<f32>()
            .map_err(err)?
            .iter()
            .copied()
            .collect();
        values.insert(name.clone(), v);
    }
    Ok(values)
}
