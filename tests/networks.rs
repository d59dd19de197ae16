//! The network files reproduce the papers' layer shapes: AlexNet CONV1-5 MACs at batch 4 as in
//! JSSC 2017 Table V, VGG-16's 15.3 G MACs per image; layer selection names what exists.

use std::path::PathBuf;

use eyeriss_gen::network::Network;

fn net(name: &str) -> Network {
    Network::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("networks")
            .join(name),
    )
    .unwrap()
}

#[test]
fn alexnet_conv_macs_match_the_paper() {
    let n = net("alexnet.toml");
    let macs: Vec<f64> = n.layers[..5]
        .iter()
        .map(|l| l.macs() as f64 / 1e6)
        .collect();
    // JSSC 2017 Table V, batch 4, in millions
    for (got, want) in macs.iter().zip([421.66, 895.79, 598.1, 448.6, 299.0]) {
        assert!((got - want).abs() / want < 0.001, "{got} vs {want}");
    }
    assert_eq!(n.layers.len(), 8);
    assert!(n.layers.iter().all(|l| l.batch == 4));
    assert_eq!(n.layers[1].groups, 2);
    assert!(!n.layers[7].relu && n.layers[0].relu);
    // layers draw different data
    assert_ne!(n.layers[2].data, n.layers[3].data);
}

#[test]
fn vgg16_has_15_3_gmacs_per_image() {
    let n = net("vgg16.toml");
    assert_eq!(n.layers.len(), 16);
    let per_image: u64 = n.layers.iter().map(|l| l.macs() / l.batch as u64).sum();
    assert!((per_image as f64 / 1e9 - 15.47).abs() < 0.05, "{per_image}");
    let conv: u64 = n.layers[..13].iter().map(|l| l.macs() / 3).sum();
    assert!((conv as f64 / 1e9 - 15.35).abs() < 0.05, "{conv}");
}

#[test]
fn selecting_layers() {
    let n = net("alexnet.toml");
    let s = n.select(Some("conv3, fc8")).unwrap();
    assert_eq!(
        s.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["conv3", "fc8"]
    );
    let e = n.select(Some("conv9")).unwrap_err().to_string();
    assert!(
        e.contains("no layer named 'conv9'; it has: conv1, conv2"),
        "{e}"
    );
}

#[test]
fn alexnet_active_pes_against_the_chip() {
    use eyeriss_gen::config::ArchConfig;
    use eyeriss_gen::mapper;
    let chip =
        ArchConfig::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/eyeriss.toml"))
            .unwrap();
    let n = net("alexnet.toml");
    // JSSC 2017 Table V: 154, 135, 156, 156, 156
    let got: Vec<u32> = n.layers[..5]
        .iter()
        .map(|l| mapper::plan(&chip, l).unwrap().active_pes)
        .collect();
    // CONV1's 11 x 7 set, twice, needs 35 ifmap rows per step: noc.ifmap_stream_rows = 64
    let chip_pes = eyeriss_gen::analysis::chip::ALEXNET.map(|c| c.active_pes);
    for (k, want) in chip_pes.into_iter().enumerate() {
        assert!(
            got[k] >= want,
            "conv{}: {} active PEs, the chip has {want}",
            k + 1,
            got[k]
        );
    }
}
